// End to end: a Viam-shaped config with components at 0.1, 10, 100 and 500 Hz (and bad entries) captures
// into the real ring store on emulated NOR flash whose erases and programs stall the (fake) CPU, while a
// sync loop reads, transcodes and acknowledges. Counts reconcile reading by reading.
import type { FlashPort } from "../../modules/ports";
import { ProtoWriter } from "../../modules/proto/writer";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import type { RingStore } from "../../modules/storage/types";
import { assert, test } from "../harness/index";
import type { FakeClock } from "../support/fake-clock";
import { decodeSensorDataFields } from "../support/sensors-decode";
import { CaptureRig, type ComponentEntry, MemoryKv } from "../support/sensors-rig";

/** NOR flash whose operations freeze the CPU like the ESP32's: 45 ms per sector erase, ~1 ms per KB written. */
class StallingFlash implements FlashPort {
  erases = 0;
  constructor(
    private readonly inner: FlashPort,
    private readonly clock: FakeClock,
  ) {}
  get size() {
    return this.inner.size;
  }
  get sectorSize() {
    return this.inner.sectorSize;
  }
  read(offset: number, target: Uint8Array): void {
    this.inner.read(offset, target);
  }
  write(offset: number, data: Uint8Array): void {
    this.clock.stall(data.length / 1024);
    this.inner.write(offset, data);
  }
  eraseSector(index: number): void {
    this.erases++;
    this.clock.stall(45);
    this.inner.eraseSector(index);
  }
}

const config: ComponentEntry[] = [
  {
    name: "slow",
    api: "rdk:component:sensor",
    model: "scripted",
    methods: [{ method: "Readings", capture_frequency_hz: 0.1 }],
  },
  {
    name: "temp",
    api: "rdk:component:sensor",
    model: "fake",
    methods: [
      { method: "Readings", capture_frequency_hz: 10 },
      { method: "Readings", capture_frequency_hz: 0 }, // bad: reported, isolated
    ],
  },
  {
    name: "board",
    api: "rdk:component:board",
    model: "fake",
    methods: [
      { method: "Analogs", capture_frequency_hz: 100, additional_params: { reader_name: "a0" } },
      { method: "Gpios", capture_frequency_hz: 10 }, // bad: no pin_name
    ],
  },
  {
    name: "imu",
    api: "rdk:component:movement_sensor",
    model: "fake",
    methods: [
      { method: "AngularVelocity", capture_frequency_hz: 500, batch_bytes: 2020 },
      { method: "Wobble", capture_frequency_hz: 5 }, // bad: unknown method
    ],
  },
];

function syncAll(store: RingStore, rig: CaptureRig, synced: Map<string, number>, budget = 16 * 1024): void {
  const w = new ProtoWriter(64 * 1024);
  for (const ring of store.rings()) {
    for (;;) {
      const chunk = ring.read(budget);
      if (!chunk) break;
      w.reset();
      let n = 0;
      for (const record of chunk.records) n += rig.capture.writeSensorData(record, w, 2);
      const decoded = decodeSensorDataFields(w.finish(), 2);
      assert.equal(decoded.length, n);
      ring.commit(chunk.lastSeq);
      synced.set(ring.key, (synced.get(ring.key) ?? 0) + n);
    }
  }
}

test("end to end: capture into the NOR ring store with stalls; counts reconcile; bad entries isolated", () => {
  const nor = new NorImage({ size: 160 * 4096 });
  const clock = CaptureRig.validClock();
  const flash = new StallingFlash(nor, clock);
  const store = openRingStore({ flash });
  const rig = new CaptureRig(store, new MemoryKv(), clock);
  const issues = rig.apply(
    config.map((c) =>
      c.name === "imu" ? { ...c, methods: c.methods.map((m) => ({ ...m, flash_sectors: 48 })) } : c,
    ),
    { ring_sectors: 8, erase_stall_ms: 45, flush_interval_secs: 5 },
  );
  assert.deepEqual(
    issues.map((i) => `${i.component}/${i.method}`),
    ["temp/Readings", "board/Gpios", "imu/Wobble"],
  );
  assert.equal(rig.capture.stats().length, 4);
  const synced = new Map<string, number>();
  const start = rig.clock.monotonic();
  for (let round = 0; round < 30; round++) {
    rig.clock.advance(6000); // sync_interval_mins 0.1
    syncAll(store, rig, synced);
  }
  rig.capture.flush();
  syncAll(store, rig, synced);
  const elapsed = rig.clock.monotonic() - start;
  for (const s of rig.capture.stats()) {
    const ring = store.ring(s.key)!;
    const deadlines = Math.floor((elapsed * s.frequencyHz) / 1000 + 1e-9) + 1;
    // Every deadline is a reading or a counted miss; every reading reached the cloud side.
    assert.ok(deadlines - (s.captured + s.missedDeadlines + s.sensorErrors) <= 1, `${s.key}: deadlines`);
    assert.equal(s.dropped, 0, `${s.key}: nothing refused by the store`);
    assert.equal(ring.counters().dropped, 0, `${s.key}: ring never overflowed`);
    assert.equal(synced.get(s.key), s.captured, `${s.key}: synced = captured`);
    assert.equal(ring.counters().pending, 0);
  }
  const stats = (method: string) => rig.capture.stats().find((s) => s.method === method)!;
  // Collectors slower than one erase stall never miss: erases wait for their slack.
  assert.equal(stats("Readings").missedDeadlines, 0);
  assert.equal(rig.capture.stats().find((s) => s.componentName === "slow")!.missedDeadlines, 0);
  assert.ok(flash.erases > 0, "the rings wrapped: erases happened");
  const sampler = rig.capture.samplerStats();
  assert.ok(sampler.erases > 0, "erase-ahead did the erasing");
  // A 500 Hz IMU polled by the timer pays for the stalls it cannot avoid (an erase a sector), counted.
  assert.ok(stats("AngularVelocity").missedDeadlines > 0);
  assert.ok(sampler.urgentErases > 0);
  // The scripted slow sensor's values arrive complete and in order.
  assert.equal(synced.get("rdk:component:sensor/slow/Readings"), Math.floor(elapsed / 10_000) + 1);
});

test("end to end: a FIFO-backed 500 Hz IMU rides through erase stalls without missing a sample", () => {
  const clock = CaptureRig.validClock();
  const flash = new StallingFlash(new NorImage({ size: 64 * 4096 }), clock);
  const store = openRingStore({ flash });
  const rig = new CaptureRig(store, new MemoryKv(), clock);
  rig.apply([
    {
      name: "imu",
      api: "rdk:component:movement_sensor",
      model: "fake",
      attributes: { fifo_samples: 512 },
      methods: [
        { method: "AngularVelocity", capture_frequency_hz: 500, batch_bytes: 2020, flash_sectors: 32 },
        { method: "LinearAcceleration", capture_frequency_hz: 500, batch_bytes: 2020, flash_sectors: 24 },
      ],
    },
  ]);
  const synced = new Map<string, number>();
  const start = rig.clock.monotonic();
  for (let round = 0; round < 10; round++) {
    rig.clock.advance(6000);
    syncAll(store, rig, synced);
  }
  // Drains after the last sync: a drain's own flush can erase (45 ms) after it has counted, so advance
  // until one drain interval passes without a stall; the last drain is then at most 10 ms old.
  for (let i = 0; i < 50; i++) {
    const before = rig.clock.monotonic();
    rig.clock.advance(10);
    if (rig.clock.monotonic() - before <= 10) break;
  }
  const seconds = (rig.clock.monotonic() - start) / 1000;
  const captured = rig.capture.stats().map((s) => s.captured);
  rig.capture.flush();
  syncAll(store, rig, synced);
  assert.ok(flash.erases > 20, "the rings wrapped many times");
  for (const s of rig.capture.stats()) {
    assert.equal(s.missedDeadlines, 0, `${s.key}: no sample lost to a stall`);
    // The FIFO is drained every 10 ms; the last drain may be up to one drain behind.
    const n = captured.shift()!;
    assert.ok(Math.abs(n - 500 * seconds) <= 10, `${s.key}: ${n} samples in ${seconds} s`);
    assert.equal(synced.get(s.key), s.captured);
  }
});

test("end to end: flash bytes per reading against SensorData bytes for a 3-axis and a 4-field reading", () => {
  const nor = new NorImage({ size: 64 * 4096 });
  const store = openRingStore({ flash: nor });
  const rig = new CaptureRig(store);
  rig.apply([
    {
      name: "imu",
      api: "rdk:component:movement_sensor",
      model: "fake",
      methods: [{ method: "AngularVelocity", capture_frequency_hz: 200 }],
    },
    {
      name: "env",
      api: "rdk:component:sensor",
      model: "fake",
      methods: [{ method: "Readings", capture_frequency_hz: 200 }],
    },
  ]);
  rig.clock.advance(3000);
  rig.capture.flush();
  for (const s of rig.capture.stats()) {
    const ring = store.ring(s.key)!;
    const flashBytes = ring.counters().bytesUsed;
    const w = new ProtoWriter(1 << 16);
    let n = 0;
    let sensorDataBytes = 0;
    for (;;) {
      const chunk = ring.read(1 << 20);
      if (!chunk) break;
      for (const record of chunk.records) {
        w.reset();
        n += rig.capture.writeSensorData(record, w, 2);
        for (const d of splitFields(w.finish())) sensorDataBytes += d;
      }
      ring.commit(chunk.lastSeq);
    }
    assert.equal(n, s.captured);
    const ratio = flashBytes / sensorDataBytes;
    assert.ok(
      ratio <= 0.5,
      `${s.key}: flash ${flashBytes} B vs SensorData ${sensorDataBytes} B (${ratio.toFixed(2)})`,
    );
  }
});

/** Sizes of the SensorData messages in a run of field-2 entries. */
function splitFields(bytes: Uint8Array): number[] {
  const sizes: number[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    pos++; // tag
    let length = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++]!;
      length += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    sizes.push(length);
    pos += length;
  }
  return sizes;
}

test("end to end: a ring that does not fit the partition is a clear error; its readings are counted, not lost silently", () => {
  const store = openRingStore({ flash: new NorImage({ size: 16 * 4096 }) });
  const rig = new CaptureRig(store);
  const issues = rig.apply([
    {
      name: "big",
      api: "rdk:component:sensor",
      model: "scripted",
      methods: [{ method: "Readings", capture_frequency_hz: 100, flash_sectors: 400 }],
    },
  ]);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.component, "big");
  assert.equal(issues[0]!.method, "Readings");
  assert.ok(
    /no flash ring: the store could not place 400 sectors/.test(issues[0]!.message),
    issues[0]!.message,
  );
  assert.equal(rig.log.matching(/^error config: component "big" method "Readings": no flash ring/).length, 1);
  rig.clock.advance(2000);
  rig.capture.flush();
  const s = rig.stats("rdk:component:sensor/big/Readings");
  assert.ok(s.captured > 0);
  assert.equal(s.dropped, s.captured, "every reading is accounted for as dropped");
  assert.ok(rig.log.matching(/reading\(s\) lost, the store refused the batch/).length > 0);
});
