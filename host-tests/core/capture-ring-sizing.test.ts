// Automatic ring sizes (modules/capture/ring-sizing.ts): rings without an explicit size share the
// partition by byte rate, keep their size once laid out, leave a reserve for collectors added later,
// and degrade to the minimum (with a warning) on a partition too small for the layout.
import { MIN_RING_SECTORS, RESERVE_DIVISOR } from "../../modules/capture/ring-sizing";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { NorImage } from "../../modules/storage/nor-image";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { MemoryStore } from "../support/memory-store";
import { CaptureRig, type ComponentEntry, MemoryKv, machineConfig } from "../support/sensors-rig";

const SECTOR = 4096;
const IMU = "rdk:component:movement_sensor/imu/AngularVelocity";
const TEMPERATURE = "rdk:component:sensor/temperature/Readings";
const ANALOG = "rdk:component:board/board/Analogs/a0";
const ACCELERATION = "rdk:component:movement_sensor/imu/LinearAcceleration";

/** examples/machine-config.json: IMU 200 Hz, temperature 1 Hz, analog 10 Hz, no ring sizes. */
function exampleConfig(imuHz = 200, analogHz = 10): ComponentEntry[] {
  return [
    {
      name: "imu",
      api: "rdk:component:movement_sensor",
      model: "fake",
      methods: [{ method: "AngularVelocity", capture_frequency_hz: imuHz, batch_bytes: 2020 }],
    },
    {
      name: "temperature",
      api: "rdk:component:sensor",
      model: "fake",
      methods: [{ method: "Readings", capture_frequency_hz: 1 }],
    },
    {
      name: "board",
      api: "rdk:component:board",
      model: "fake",
      attributes: { analogs: ["a0"] },
      methods: [
        { method: "Analogs", capture_frequency_hz: analogHz, additional_params: { reader_name: "a0" } },
      ],
    },
  ];
}

function rig(partitionBytes: number, nor = new NorImage({ size: partitionBytes, sectorSize: SECTOR })) {
  const store = openRingStore({ flash: nor });
  return { nor, store, rig: new CaptureRig(store, new MemoryKv()) };
}

function sizes(store: FlashRingStore): Map<string, number> {
  return new Map(store.storedLayout().map((r) => [r.key, r.sectors]));
}

function total(store: FlashRingStore): number {
  let n = 0;
  for (const r of store.storedLayout()) n += r.sectors;
  return n;
}

test("ring sizing: the example config on a 2 MB partition uses ≥ 80% of it, shared by byte rate", () => {
  const { store, rig: r } = rig(2 * 1024 * 1024);
  assert.deepEqual(r.apply(exampleConfig()), []);
  const ringSectors = store.geometry().ringSectors;
  assert.equal(ringSectors, 510);
  const s = sizes(store);
  assert.equal(s.size, 3);
  assert.ok(total(store) >= 0.8 * 512, `rings take ${total(store)} of 512 sectors`);
  // The reserve stays free for collectors added later.
  assert.ok(ringSectors - total(store) >= Math.floor(ringSectors / RESERVE_DIVISOR));
  const imu = s.get(IMU)!;
  assert.ok(imu > s.get(ANALOG)! && imu > s.get(TEMPERATURE)!, `IMU ${imu} sectors: the largest share`);
  for (const n of s.values()) assert.ok(n >= MIN_RING_SECTORS);
  // Shares follow byte rates: the IMU (200 Hz × 3 doubles) writes ~45× the analog (10 Hz × 1 double),
  // so the rings lap at about the same pace.
  const ratio = imu / s.get(ANALOG)!;
  assert.ok(ratio > 30 && ratio < 60, `IMU/analog sectors ${ratio}`);

  r.clock.advance(20_000);
  r.capture.flush();
  for (const key of [IMU, TEMPERATURE, ANALOG]) {
    const c = r.stats(key);
    assert.ok(c.captured > 0 && c.dropped === 0, key);
    assert.equal(r.stored(key).length, c.captured, `${key}: every reading is in its ring`);
  }
});

test("ring sizing: a frequency change, and a reboot, keep every ring's size and its records", () => {
  const { nor, store, rig: r } = rig(2 * 1024 * 1024);
  r.apply(exampleConfig());
  const before = sizes(store);
  const imuRing = store.ring(IMU)!;
  r.clock.advance(30_000);
  r.capture.flush();
  const imuStored = r.stored(IMU);
  const analogStored = r.stored(ANALOG).length;
  assert.ok(imuStored.length > 5000);

  // Doubled IMU, tenfold analog: fresh sizing would differ, but the rings exist and keep their size.
  assert.deepEqual(r.apply(exampleConfig(400, 100)), []);
  assert.deepEqual([...sizes(store)], [...before]);
  assert.equal(store.ring(IMU), imuRing, "the same ring keeps working");
  assert.equal(imuRing.counters().discarded, 0);
  r.clock.advance(5_000);
  r.capture.flush();
  const after = r.stored(IMU);
  assert.ok(after.length > imuStored.length + 1500, "the IMU captures at 400 Hz into the same ring");
  assert.deepEqual(after.slice(0, imuStored.length), imuStored, "no buffered reading lost");
  assert.ok(r.stored(ANALOG).length > analogStored + 400);

  // A reboot: a new store and capture on the same flash, with the new frequencies: same sizes.
  r.capture.close();
  store.close();
  nor.reboot();
  const again = rig(0, nor);
  again.rig.apply(exampleConfig(400, 100));
  assert.deepEqual([...sizes(again.store)], [...before]);
});

test("ring sizing: a collector added later gets its share from the reserve; the others keep theirs", () => {
  const { store, rig: r } = rig(2 * 1024 * 1024);
  r.apply(exampleConfig());
  const before = sizes(store);
  const free = store.geometry().ringSectors - total(store);
  r.clock.advance(10_000);
  r.capture.flush();
  const imuStored = r.stored(IMU).length;

  const more = exampleConfig();
  more[0]!.methods.push({ method: "LinearAcceleration", capture_frequency_hz: 50 });
  assert.deepEqual(r.apply(more), []);
  const s = sizes(store);
  for (const [key, n] of before) assert.equal(s.get(key), n, `${key} keeps its size`);
  const added = s.get(ACCELERATION)!;
  // 50 Hz of a 3-axis vector is ~1/5 of all bytes: more than the minimum, at most what was free.
  assert.ok(added > MIN_RING_SECTORS && added <= free, `added ring ${added} of ${free} free sectors`);
  assert.equal(r.stored(IMU).length >= imuStored, true);
  r.clock.advance(10_000);
  r.capture.flush();
  assert.ok(r.stats(ACCELERATION).captured >= 500);
  assert.equal(r.stored(ACCELERATION).length, r.stats(ACCELERATION).captured);
});

test("ring sizing: explicit sizes win (flash_sectors, cache_size_kb, ring_sectors)", () => {
  const { store, rig: r } = rig(2 * 1024 * 1024);
  const config = exampleConfig();
  config[0]!.methods[0]!.flash_sectors = 64;
  config[1]!.methods[0]!.cache_size_kb = 40;
  assert.deepEqual(r.apply(config), []);
  const s = sizes(store);
  assert.equal(s.get(IMU), 64);
  assert.equal(s.get(TEMPERATURE), 10);
  // The only auto ring takes the free space minus the reserve.
  assert.equal(s.get(ANALOG), 510 - 64 - 10 - Math.floor(510 / RESERVE_DIVISOR));

  const other = rig(2 * 1024 * 1024);
  assert.deepEqual(other.rig.apply(exampleConfig(), { ring_sectors: 8 }), []);
  assert.deepEqual([...sizes(other.store).values()], [8, 8, 8]);

  const parsed = parseMachineConfig(machineConfig(config)).collectors;
  assert.deepEqual(
    parsed.map((c) => c.autoSize),
    [false, false, true],
  );
});

test("ring sizing: a partition too small for the shares gives the minimum with a warning; all capture", () => {
  // 8 sectors: 2 for the layout record, 6 for rings.
  const { store, rig: r } = rig(8 * SECTOR);
  const issues = r.apply(exampleConfig());
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.severity, "warning");
  assert.ok(issues[0]!.message.includes("minimum"), issues[0]!.message);
  assert.equal(r.log.matching(/warn .*ring sizes/).length, 1);
  assert.deepEqual([...sizes(store).values()], [2, 2, 2]);
  r.clock.advance(3_000);
  r.capture.flush();
  for (const key of [IMU, TEMPERATURE, ANALOG]) {
    assert.ok(r.stats(key).captured > 0, key);
    assert.ok(r.stored(key).length > 0, `${key} has readings in flash`);
  }
});

test("ring sizing: a store without a partition (RAM) gives auto rings the fallback size", () => {
  const store = new MemoryStore();
  const r = new CaptureRig(store);
  assert.deepEqual(r.apply(exampleConfig()), []);
  assert.deepEqual(store.layouts.at(-1), [
    { key: IMU, sectors: 8 },
    { key: TEMPERATURE, sectors: 8 },
    { key: ANALOG, sectors: 8 },
  ]);
  const parsed = parseMachineConfig(machineConfig(exampleConfig())).collectors;
  assert.deepEqual(
    parsed.map((c) => [c.autoSize, c.flashSectors]),
    [
      [true, 8],
      [true, 8],
      [true, 8],
    ],
  );
});
