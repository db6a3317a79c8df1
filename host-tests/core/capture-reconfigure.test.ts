import { assert, test } from "../harness/index";
import type { MemoryStore } from "../support/memory-store";
import { CaptureRig, type ComponentEntry } from "../support/sensors-rig";

const SENSOR = "rdk:component:sensor";
const keyOf = (name: string) => `${SENSOR}/${name}/Readings`;

function sensor(name: string, hz: number, disabled = false): ComponentEntry {
  return {
    name,
    api: SENSOR,
    model: "scripted",
    methods: [{ method: "Readings", capture_frequency_hz: hz, disabled }],
  };
}

/** The scripted sensor writes n = 1, 2, 3…: every value must reach the ring exactly once, in order. */
function assertContinuous(rig: CaptureRig, name: string): number {
  const values = rig.stored(keyOf(name)).map((r) => (r.payload.readings as { n: number }).n);
  const reads = rig.script.reads.get(name) ?? 0;
  assert.equal(values.length, reads, `${name}: stored ${values.length} of ${reads} reads`);
  for (let i = 0; i < values.length; i++) assert.equal(values[i], i + 1, `${name}: reading ${i}`);
  return values.length;
}

test("reconfigure: frequency changes keep the collector, its RAM batch and its ring; nothing is lost", () => {
  const rig = new CaptureRig();
  rig.apply([sensor("a", 10), sensor("b", 3)], { flush_interval_secs: 30 });
  rig.clock.advance(4000);
  const before = rig.stats(keyOf("a"));
  assert.ok(before.batched > 0, "readings are waiting in RAM");
  rig.apply([sensor("a", 50), sensor("b", 3)], { flush_interval_secs: 30 });
  const after = rig.stats(keyOf("a"));
  assert.equal(after.batched, before.batched, "the RAM batch survived the change");
  assert.equal(after.captured, before.captured, "same collector, same counters");
  assert.equal(after.frequencyHz, 50);
  const t = rig.clock.monotonic();
  rig.clock.advance(2000);
  assert.equal(
    rig.stats(keyOf("a")).captured - after.captured,
    // The deadline at t itself was served by the read at t (before the change): never read twice at one instant.
    Math.floor((rig.clock.monotonic() - t) / 20),
  );
  assert.equal(rig.stats(keyOf("a")).missedDeadlines, 0);
  // b's schedule was not touched by a's change.
  assert.equal(rig.stats(keyOf("b")).missedDeadlines, 0);
  rig.capture.flush();
  assertContinuous(rig, "a");
  assertContinuous(rig, "b");
});

test("reconfigure: disable, remove, add and capture_disabled flush first and keep pending rings", () => {
  const rig = new CaptureRig();
  const store = rig.store as MemoryStore;
  rig.apply([sensor("a", 20), sensor("b", 20)], { flush_interval_secs: 30 });
  rig.clock.advance(1000);
  // a disabled, b removed from the config, c added.
  rig.apply([sensor("a", 20, true), sensor("c", 5)], { flush_interval_secs: 30 });
  assert.deepEqual(
    rig.capture.stats().map((s) => s.key),
    [keyOf("c")],
  );
  assert.ok(store.ring(keyOf("a")), "a disabled collector keeps its ring");
  assert.ok(store.ring(keyOf("b")), "a removed collector's ring stays while it holds unsynced data");
  const readsA = rig.script.reads.get("a")!;
  rig.clock.advance(1000);
  assert.equal(rig.script.reads.get("a"), readsA, "disabled: no more reads");
  assertContinuous(rig, "a");
  assertContinuous(rig, "b");

  // capture_disabled: batches flushed, the timer stopped, rings kept.
  rig.apply([sensor("a", 20), sensor("c", 5)], { capture_disabled: true });
  assert.equal(rig.capture.stats().length, 0);
  assert.equal(rig.clock.pending(), 0, "no timer while capture is disabled");
  assertContinuous(rig, "c");
  rig.clock.advance(5000);
  assertContinuous(rig, "c");

  // And back on: a resumes in the same ring, after its earlier readings.
  rig.apply([sensor("a", 20)]);
  rig.clock.advance(1000);
  rig.capture.flush();
  assertContinuous(rig, "a");
  assert.equal(rig.clock.pending(), 1);
});

test("reconfigure: model problems are reported per component and method; valid collectors still run", () => {
  const rig = new CaptureRig();
  const issues = rig.apply([
    sensor("ok", 10),
    {
      name: "ghost",
      api: SENSOR,
      model: "no-such-model",
      methods: [{ method: "Readings", capture_frequency_hz: 1 }],
    },
    {
      name: "imu",
      api: "rdk:component:movement_sensor",
      model: "scripted",
      methods: [
        { method: "AngularVelocity", capture_frequency_hz: 100 },
        { method: "LinearAcceleration", capture_frequency_hz: 100 },
      ],
    },
    {
      name: "board",
      api: "rdk:component:board",
      model: "fake",
      attributes: { analogs: ["a1"] },
      methods: [
        { method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "a1" } },
        { method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "a2" } },
      ],
    },
    {
      name: "broken",
      api: SENSOR,
      model: "fake",
      attributes: { fail_every: -1 },
      methods: [{ method: "Readings", capture_frequency_hz: 1 }],
    },
  ]);
  const summary = issues.map((i) => `${i.component}|${i.method ?? ""}`).sort();
  assert.deepEqual(summary, ["board|Analogs", "broken|", "ghost|", "imu|LinearAcceleration"]);
  assert.ok(issues.find((i) => i.component === "board")!.message.includes('"a2"'));
  assert.ok(issues.find((i) => i.component === "ghost")!.message.includes("no-such-model"));
  assert.ok(issues.find((i) => i.component === "broken")!.message.includes("fail_every"));
  assert.equal(rig.log.matching(/^error config: component "imu" method "LinearAcceleration"/).length, 1);
  assert.deepEqual(
    rig.capture
      .stats()
      .map((s) => s.key)
      .sort(),
    [
      "rdk:component:board/board/Analogs/a1",
      "rdk:component:movement_sensor/imu/AngularVelocity",
      "rdk:component:sensor/ok/Readings",
    ],
  );
  rig.clock.advance(1000);
  for (const s of rig.capture.stats()) assert.ok(s.captured > 0, `${s.key} runs`);
});

test("reconfigure: changed component attributes rebuild the component; its old batch is flushed first", () => {
  const rig = new CaptureRig();
  const board = (analogs: string[]): ComponentEntry => ({
    name: "board",
    api: "rdk:component:board",
    model: "fake",
    attributes: { analogs },
    methods: [{ method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "a1" } }],
  });
  const key = "rdk:component:board/board/Analogs/a1";
  rig.apply([board(["a1"])], { flush_interval_secs: 60 });
  rig.clock.advance(2000);
  const first = rig.stats(key).captured;
  assert.equal(rig.stats(key).flushed, 0);
  rig.apply([board(["a1", "a9"])], { flush_interval_secs: 60 });
  assert.equal(rig.stats(key).captured, 0, "a new collector for the new component");
  assert.equal(rig.stored(key).length, first, "the old batch reached the ring before the switch");
  rig.clock.advance(1000);
  rig.capture.flush();
  assert.equal(rig.stored(key).length, first + rig.stats(key).captured);
  // Analog values come back as {value} with the reader's number.
  assert.equal(typeof rig.stored(key)[0]!.payload.value, "number");
});

test("reconfigure: close flushes everything and stops the timer; apply after close is refused", () => {
  const rig = new CaptureRig();
  rig.apply([sensor("a", 7)]);
  rig.clock.advance(3000);
  rig.capture.close();
  assert.equal(rig.clock.pending(), 0);
  assertContinuous(rig, "a");
  assert.throws(() => rig.apply([sensor("a", 7)]), "after close");
});
