import { FLAG_WALL_BASE, OFFSET_FLAGS } from "../../modules/capture/block-format";
import { BOOTS_KEY } from "../../modules/capture/boot-timeline";
import { TIMES_NOT_KNOWN_YET } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryStore } from "../support/memory-store";
import { CaptureRig, type ComponentEntry, MemoryKv } from "../support/sensors-rig";

const SENSOR = "rdk:component:sensor";
const IMU = "rdk:component:movement_sensor";
const W = Date.UTC(2025, 5, 1, 12); // the wall clock once SNTP answers

function everyMethod(hz: number): ComponentEntry[] {
  return [
    {
      name: "s",
      api: SENSOR,
      model: "scripted",
      methods: [{ method: "Readings", capture_frequency_hz: hz }],
    },
    {
      name: "imu",
      api: IMU,
      model: "fake",
      methods: ["AngularVelocity", "LinearAcceleration", "LinearVelocity", "Position", "CompassHeading"].map(
        (m) => ({
          method: m,
          capture_frequency_hz: hz,
        }),
      ),
    },
    {
      name: "board",
      api: "rdk:component:board",
      model: "fake",
      methods: [
        { method: "Analogs", capture_frequency_hz: hz, additional_params: { reader_name: "a" } },
        { method: "Gpios", capture_frequency_hz: hz, additional_params: { pin_name: "p" } },
      ],
    },
    {
      name: "enc",
      api: "rdk:component:encoder",
      model: "fake",
      methods: [{ method: "TicksCount", capture_frequency_hz: hz }],
    },
    {
      name: "mot",
      api: "rdk:component:motor",
      model: "fake",
      methods: [{ method: "Position", capture_frequency_hz: hz }],
    },
    {
      name: "srv",
      api: "rdk:component:servo",
      model: "fake",
      methods: [{ method: "Position", capture_frequency_hz: hz }],
    },
  ];
}

function records(rig: CaptureRig, key: string): Uint8Array[] {
  return rig.store.ring(key)?.read(1 << 20)?.records ?? [];
}

test("timestamps: before the wall clock is valid, every method stores monotonic time and is placed exactly later", () => {
  const clock = new FakeClock(500);
  const rig = new CaptureRig(new MemoryStore(), new MemoryKv(), clock);
  rig.apply(everyMethod(4));
  clock.advance(10_000); // offline: wall() is NaN
  rig.capture.flush();
  const keys = rig.capture.stats().map((s) => s.key);
  assert.equal(keys.length, 11);
  for (const key of keys) {
    const [record] = records(rig, key);
    assert.ok(record, key);
    assert.equal(record[OFFSET_FLAGS]! & FLAG_WALL_BASE, 0, `${key}: monotonic base`);
    // Sync must wait: the times cannot be placed yet.
    assert.equal(rig.capture.writeSensorData(record, new ProtoWriter(), 2), TIMES_NOT_KNOWN_YET);
  }
  // SNTP answers at monotonic 10500: wall = W there.
  clock.setWall(W);
  const validAt = clock.monotonic();
  clock.advance(3000);
  rig.capture.flush();
  assert.equal(rig.capture.samplerStats().clockOffsetMs, W - validAt);
  for (const key of keys) {
    const readings = rig.stored(key);
    assert.ok(readings.length >= 50, key);
    // The first reading was requested at monotonic 500 (apply time): W − 10 s.
    assert.equal(
      readings[0]!.requestedUs,
      (W - (validAt - 500)) * 1000,
      `${key}: first reading placed exactly`,
    );
    for (let i = 1; i < readings.length; i++) {
      assert.equal(readings[i]!.requestedUs - readings[i - 1]!.requestedUs, 250_000, `${key}: 4 Hz spacing`);
      assert.ok(readings[i]!.receivedUs >= readings[i]!.requestedUs);
    }
    // Blocks after the clock became valid are wall-based.
    const last = records(rig, key).at(-1)!;
    assert.equal(last[OFFSET_FLAGS]! & FLAG_WALL_BASE, FLAG_WALL_BASE, `${key}: wall base after SNTP`);
  }
});

test("timestamps: a boot that never got the wall clock is placed just before the next boot, never in 1970", () => {
  const kv = new MemoryKv();
  const store = new MemoryStore();
  const key = `${SENSOR}/s/Readings`;
  const config = [
    { name: "s", api: SENSOR, model: "scripted", methods: [{ method: "Readings", capture_frequency_hz: 2 }] },
  ];

  // Boot 1: offline for 90 s, then the power is cut (no close()).
  const boot1 = new CaptureRig(store, kv, new FakeClock(0));
  boot1.apply(config);
  boot1.clock.advance(90_000);
  boot1.capture.flush();
  const boot1Id = boot1.capture.samplerStats().bootId;
  const stored = JSON.parse(kv.get(BOOTS_KEY)!) as { b: [number, number | null, number][] };
  assert.deepEqual(stored.b.at(-1), [boot1Id, null, 60_000], "high-water mark checkpointed at 60 s");

  // Boot 2: the clock becomes valid 5 s after boot (the same store: data retained).
  const boot2 = new CaptureRig(store, kv, new FakeClock(0));
  assert.equal(boot2.capture.samplerStats().bootId, boot1Id + 1);
  boot2.apply(config);
  boot2.clock.advance(5000);
  boot2.clock.setWall(W);
  boot2.clock.advance(1000);
  boot2.capture.flush();
  const readings = boot2.stored(key);
  const fromBoot1 = readings.slice(0, 181);
  const boot2StartUs = (W - 5000) * 1000;
  const last1 = fromBoot1.at(-1)!;
  assert.ok(last1.requestedUs < boot2StartUs, "boot 1 ends before boot 2 starts");
  assert.ok(last1.requestedUs >= boot2StartUs - 1000, "…as late as possible (upper bound)");
  assert.equal(fromBoot1[0]!.requestedUs, last1.requestedUs - 90_000_000, "spacing within boot 1 kept");
  for (const r of readings) assert.ok(r.requestedUs > Date.UTC(2020, 0, 1) * 1000, "never 1970");
  // Boot 2's own readings are exact.
  assert.equal(readings[181]!.requestedUs, boot2StartUs);
  // Boot 2 read at its monotonic 0, the instant boot 1 is placed to end: still one time per reading.
  for (let i = 1; i < readings.length; i++) {
    assert.ok(readings[i]!.requestedUs > readings[i - 1]!.requestedUs, `reading ${i} after reading ${i - 1}`);
  }
});

test("timestamps: without a key/value store, an earlier boot's blocks are still told apart", () => {
  const store = new MemoryStore();
  const config = [
    { name: "s", api: SENSOR, model: "scripted", methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
  ];
  const boot1 = new CaptureRig(store, null, new FakeClock(0));
  boot1.apply(config);
  boot1.clock.advance(10_000);
  boot1.capture.flush();
  const boot2 = new CaptureRig(store, null, new FakeClock(0));
  assert.notEqual(boot2.capture.samplerStats().bootId, boot1.capture.samplerStats().bootId);
  boot2.apply(config);
  boot2.clock.setWall(W);
  boot2.clock.advance(2000);
  boot2.capture.flush();
  const readings = boot2.stored(`${SENSOR}/s/Readings`);
  assert.ok(readings[10]!.requestedUs <= W * 1000, "boot 1's last reading is not placed inside boot 2");
  assert.equal(readings[11]!.requestedUs, W * 1000);
});

test("timestamps: time_requested is taken before the read and time_received after it", () => {
  const rig = new CaptureRig();
  rig.script.readCostMs = 7;
  rig.apply([
    {
      name: "s",
      api: SENSOR,
      model: "scripted",
      methods: [{ method: "Readings", capture_frequency_hz: 10 }],
    },
  ]);
  rig.clock.advance(1000);
  rig.capture.flush();
  for (const r of rig.stored(`${SENSOR}/s/Readings`)) assert.equal(r.receivedUs - r.requestedUs, 7000);
});
