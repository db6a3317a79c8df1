import { chooseTick } from "../../modules/capture/capture";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { CaptureRig, type ComponentEntry, WALL_START_MS } from "../support/sensors-rig";

const SENSOR = "rdk:component:sensor";
const IMU = "rdk:component:movement_sensor";
const key = (api: string, name: string, method: string) => `${api}/${name}/${method}`;

function sensor(name: string, hz: number, extra: Partial<ComponentEntry> = {}): ComponentEntry {
  return {
    name,
    api: SENSOR,
    model: "scripted",
    methods: [{ method: "Readings", capture_frequency_hz: hz }],
    ...extra,
  };
}

/** Deadlines that fell in [start, end] for a collector started at `start`. */
function deadlines(hz: number, start: number, end: number): number {
  return Math.floor(((end - start) * hz) / 1000 + 1e-9) + 1;
}

test("sampler: one timer drives many rates, exact counts, every reading accounted for", () => {
  const rig = new CaptureRig();
  const rates = [1000, 300, 100, 7, 1];
  rig.apply(rates.map((hz) => sensor(`s${hz}`, hz)));
  assert.equal(rig.clock.pending(), 1, "exactly one timer");
  assert.equal(rig.capture.samplerStats().tickMs, 1);
  const start = rig.clock.monotonic();
  rig.clock.advance(20_000);
  const end = rig.clock.monotonic();
  for (const hz of rates) {
    const s = rig.stats(key(SENSOR, `s${hz}`, "Readings"));
    assert.equal(s.captured, deadlines(hz, start, end), `${hz} Hz captured`);
    assert.equal(s.missedDeadlines, 0, `${hz} Hz missed`);
    assert.equal(s.flushed + s.batched, s.captured, `${hz} Hz: flushed + in RAM = captured`);
  }
  // 300 Hz is 300/s, not 1000/3 ms rounded: 20 s → 6001 readings.
  assert.equal(rig.stats(key(SENSOR, "s300", "Readings")).captured, 6001);
});

test("sampler: no drift over simulated hours, with a drifting, jittery timer", () => {
  const rig = new CaptureRig();
  const random = new Random(7);
  rig.clock.jitter = () => random.float() * 0.9;
  const rates = [0.01, 0.1, 1, 3.3];
  rig.apply(
    rates.map((hz) => sensor(`s${hz}`, hz)),
    { flush_interval_secs: 60 },
  );
  assert.equal(rig.capture.samplerStats().tickMs, 100);
  const start = rig.clock.monotonic();
  const hours = 3;
  rig.clock.advance(hours * 3600_000);
  const end = rig.clock.monotonic();
  rig.capture.flush();
  for (const hz of rates) {
    const k = key(SENSOR, `s${hz}`, "Readings");
    const s = rig.stats(k);
    assert.equal(s.missedDeadlines, 0, `${hz} Hz missed`);
    // The deadline at the very end may wait for the next (jittered) tick.
    const due = deadlines(hz, start, end);
    assert.ok(
      s.captured === due || s.captured === deadlines(hz, start, end - 101),
      `${hz} Hz count ${s.captured} of ${due}`,
    );
    // Reading k was requested within one timer interval (+ jitter) after its absolute deadline k — the
    // first and the last alike: no drift after hours.
    const readings = rig.stored(k);
    assert.equal(readings.length, s.captured);
    const startWallUs = (WALL_START_MS + (start - 1000)) * 1000;
    for (const index of [0, 1, readings.length - 2, readings.length - 1]) {
      const lateMs = (readings[index]!.requestedUs - startWallUs) / 1000 - index * (1000 / hz);
      assert.ok(
        lateMs >= -0.001 && lateMs <= 101,
        `${hz} Hz reading ${index} is ${lateMs} ms off its deadline`,
      );
    }
  }
});

test("sampler: a 1 kHz collector keeps up under a drifting, jittery timer (held on its grid), misses nothing", () => {
  const rig = new CaptureRig();
  const random = new Random(11);
  rig.clock.jitter = () => random.float() * 0.8;
  rig.apply([sensor("fast", 1000), sensor("slow", 0.5)]);
  const start = rig.clock.monotonic();
  rig.clock.advance(30_000);
  const s = rig.stats(key(SENSOR, "fast", "Readings"));
  // Deadlines due by the last tick were served; the count trails the wall by at most the jitter.
  const total = deadlines(1000, start, rig.clock.monotonic());
  assert.equal(s.missedDeadlines, 0);
  assert.ok(total - s.captured <= 2, `captured ${s.captured} of ${total}`);
});

test("sampler: stalls cost counted deadlines, not stretched schedules", () => {
  const rig = new CaptureRig();
  rig.apply([sensor("fast", 1000), sensor("mid", 200), sensor("slow", 2)]);
  const start = rig.clock.monotonic();
  rig.clock.advance(1000);
  rig.clock.stall(50); // a 50 ms sector erase
  rig.clock.advance(1000);
  rig.clock.stall(400); // a worst-case erase
  rig.clock.advance(1000);
  const end = rig.clock.monotonic();
  for (const [name, hz] of [
    ["fast", 1000],
    ["mid", 200],
    ["slow", 2],
  ] as const) {
    const s = rig.stats(key(SENSOR, name, "Readings"));
    assert.equal(
      s.captured + s.missedDeadlines,
      deadlines(hz, start, end),
      `${name}: captured + missed = deadlines`,
    );
  }
  const fast = rig.stats(key(SENSOR, "fast", "Readings"));
  // 50 + 400 ms of stall at 1 kHz: every deadline inside a stall but the newest (read once, at the first
  // tick after it) is missed; none is made up by reading twice at one instant.
  assert.equal(fast.missedDeadlines, 50 - 1 + (400 - 1));
  assert.equal(rig.stats(key(SENSOR, "slow", "Readings")).missedDeadlines, 0);
  // The schedule did not slide: readings after the stalls are still on the 1 ms grid.
  rig.capture.flush();
  const readings = rig.stored(key(SENSOR, "fast", "Readings"));
  const base = readings[0]!.requestedUs;
  for (const r of readings) assert.equal((r.requestedUs - base) % 1000, 0, "on the grid");
});

test("sampler: slow reads (a sensor that takes 3 ms at 500 Hz) are counted as missed, never queued", () => {
  const rig = new CaptureRig();
  rig.script.readCostMs = 3;
  rig.apply([sensor("sluggish", 500)]);
  const start = rig.clock.monotonic();
  rig.clock.advance(3000);
  const s = rig.stats(key(SENSOR, "sluggish", "Readings"));
  assert.ok(s.missedDeadlines > 0);
  assert.ok(s.captured + s.missedDeadlines >= deadlines(500, start, rig.clock.monotonic()) - 3);
  rig.capture.flush();
  const readings = rig.stored(key(SENSOR, "sluggish", "Readings"));
  assert.equal(s.slowReads, s.captured, "every 3 ms read is longer than the 2 ms period");
  // time_received is after time_requested by the read's own duration.
  for (const r of readings) assert.equal(r.receivedUs - r.requestedUs, 3000);
});

test("sampler: sensor errors (throws, NaN) are counted, rate-limited in the log, and the schedule holds", () => {
  const rig = new CaptureRig();
  rig.script.failWhen = (_name, n) => n % 4 === 0;
  rig.apply([
    sensor("flaky", 50),
    {
      name: "nan",
      api: IMU,
      model: "fake",
      attributes: { nan_every: 3 },
      methods: [{ method: "LinearAcceleration", capture_frequency_hz: 20 }],
    },
  ]);
  const start = rig.clock.monotonic();
  rig.clock.advance(60_000);
  const end = rig.clock.monotonic();
  const flaky = rig.stats(key(SENSOR, "flaky", "Readings"));
  assert.equal(flaky.captured + flaky.sensorErrors, deadlines(50, start, end));
  assert.equal(flaky.sensorErrors, Math.floor(deadlines(50, start, end) / 4));
  assert.equal(flaky.slowReads, 0);
  const nan = rig.stats(key(IMU, "nan", "LinearAcceleration"));
  assert.equal(nan.sensorErrors, Math.floor(deadlines(20, start, end) / 3));
  assert.equal(nan.captured + nan.sensorErrors, deadlines(20, start, end));
  // At most one line per collector per 10 s, and the line says how many were suppressed.
  const lines = rig.log.matching(/flaky Readings/);
  assert.ok(lines.length >= 6 && lines.length <= 7, `${lines.length} log lines`);
  assert.ok(/scripted failure/.test(lines[0]!));
  assert.ok(/more since the last report/.test(lines[1]!));
  assert.ok(rig.log.matching(/nan LinearAcceleration: the value is NaN/).length <= 7);
});

test("sampler: a NaN inside a Readings map drops that reading and the log names the field", () => {
  const rig = new CaptureRig();
  rig.apply([
    {
      name: "env",
      api: SENSOR,
      model: "fake",
      attributes: { nan_every: 2 },
      methods: [{ method: "Readings", capture_frequency_hz: 10 }],
    },
  ]);
  rig.clock.advance(999);
  const s = rig.stats(key(SENSOR, "env", "Readings"));
  assert.equal(s.captured, 5);
  assert.equal(s.sensorErrors, 5);
  assert.ok(
    /env Readings: a value is NaN or infinite \(field "temperature"\)/.test(
      rig.log.matching(/env Readings/)[0]!,
    ),
  );
  rig.capture.flush();
  for (const r of rig.stored(key(SENSOR, "env", "Readings"))) {
    assert.equal(typeof (r.payload.readings as { temperature: number }).temperature, "number");
  }
});

test("sampler: batches flush when full and when older than the flush interval", () => {
  const rig = new CaptureRig();
  rig.apply(
    [
      {
        // "fake": inexact doubles (8 bytes each in flash), so 300 readings fill many half-KB blocks.
        ...sensor("fast", 200, { model: "fake" }),
        methods: [{ method: "Readings", capture_frequency_hz: 200, batch_bytes: 512 }],
      },
      sensor("slow", 1),
    ],
    { flush_interval_secs: 2 },
  );
  rig.clock.advance(1500);
  const slow = rig.stats(key(SENSOR, "slow", "Readings"));
  assert.equal(slow.flushed, 0, "a young batch stays in RAM");
  assert.ok(slow.batched > 0);
  const fast = rig.stats(key(SENSOR, "fast", "Readings"));
  // 300 readings in 1.5 s, younger than the 2 s flush interval: every block so far was flushed because it was full.
  assert.ok(fast.blocks >= 10, `fast filled ${fast.blocks} half-KB blocks`);
  rig.clock.advance(1000);
  assert.ok(rig.stats(key(SENSOR, "slow", "Readings")).flushed >= 2, "aged batch flushed");
  const ring = rig.store.ring(key(SENSOR, "fast", "Readings"))!;
  const chunk = ring.read(1 << 20)!;
  for (const record of chunk.records) assert.ok(record.length <= 512, "a block never exceeds batch_bytes");
});

test("sampler: erase-ahead waits for slack, or happens when urgent", () => {
  const rig = new CaptureRig();
  rig.apply([sensor("slow", 2)], { erase_stall_ms: 45 });
  const ring = rig.store.ring(key(SENSOR, "slow", "Readings")) as unknown as {
    writable: number;
    eraseCalls: number;
  };
  ring.writable = 100; // less than a batch: urgent
  rig.clock.advance(6000);
  assert.ok(ring.eraseCalls >= 1);
  assert.ok(rig.capture.samplerStats().erases >= 1);
  assert.equal(rig.capture.samplerStats().urgentErases, 0, "a 2 Hz collector leaves 500 ms of slack");

  const busy = new CaptureRig();
  busy.apply(
    [
      {
        ...sensor("busy", 1000),
        methods: [{ method: "Readings", capture_frequency_hz: 1000, batch_bytes: 4000 }],
      },
    ],
    {
      erase_stall_ms: 45,
    },
  );
  const busyRing = busy.store.ring(key(SENSOR, "busy", "Readings")) as unknown as {
    writable: number;
    eraseCalls: number;
  };
  // After one ~2 KB flush: more than one batch (~4 KB) left, less than two: wants erase-ahead, but never
  // finds 45 ms of slack at 1 kHz.
  busyRing.writable = 7000;
  busy.clock.advance(100);
  busy.capture.flush();
  busy.clock.advance(5);
  assert.equal(busyRing.eraseCalls, 0, "not urgent: waits");
  busyRing.writable = 10; // now the next batch would erase inside append
  busy.capture.flush();
  busy.clock.advance(100);
  busy.clock.advance(5);
  assert.ok(busyRing.eraseCalls >= 1);
  assert.ok(busy.capture.samplerStats().urgentErases >= 1);
});

test("sampler: steady timers (the ESP32's) are never re-armed for slow on-time ticks; drifting ones are", () => {
  const run = (steady: boolean) => {
    const clock = CaptureRig.validClock();
    clock.steady = steady;
    const rig = new CaptureRig(undefined, undefined, clock);
    rig.apply([sensor("s", 100)]);
    rig.script.readCostMs = 2; // every tick takes 2 ms of its 10
    const sets = rig.clock.sets;
    rig.clock.advance(1000);
    rig.capture.flush();
    const s = rig.stats(key(SENSOR, "s", "Readings"));
    const stored = rig.stored(key(SENSOR, "s", "Readings"));
    // Every reading requested on its 10 ms grid: nothing drifted, nothing missed.
    for (let i = 1; i < stored.length; i++)
      assert.equal(stored[i]!.requestedUs - stored[i - 1]!.requestedUs, 10_000, `reading ${i}`);
    return { reArms: rig.clock.sets - sets, captured: s.captured, missed: s.missedDeadlines };
  };
  const steady = run(true);
  // At most the first tick's (its read made it late for its own grid point before the grid was known).
  assert.ok(steady.reArms <= 1, `a steady timer is left alone: ${steady.reArms} re-arms`);
  assert.equal(steady.missed, 0);
  assert.ok(steady.captured >= 100, `captured ${steady.captured}`);
  const drifting = run(false);
  assert.ok(
    drifting.reArms >= 90,
    `a drifting timer is held on its grid by hand: ${drifting.reArms} re-arms`,
  );
  assert.equal(drifting.missed, 0);
});

test("sampler: a ring waiting for slack is not asked again each tick, but is when it changes", () => {
  const busy = new CaptureRig();
  busy.apply(
    [
      {
        ...sensor("busy", 1000),
        methods: [{ method: "Readings", capture_frequency_hz: 1000, batch_bytes: 4000 }],
      },
    ],
    { erase_stall_ms: 45 },
  );
  const ring = busy.store.ring(key(SENSOR, "busy", "Readings")) as unknown as {
    writable: number;
    eraseCalls: number;
    writableCalls: number;
  };
  // One batch (~4 KB) fits, two do not: erase-ahead is due but not urgent, and 1 kHz never leaves 45 ms.
  ring.writable = 7000;
  busy.clock.advance(10);
  busy.capture.flush();
  const asked = ring.writableCalls;
  busy.clock.advance(50); // 50 ticks
  assert.equal(ring.eraseCalls, 0, "not urgent: waits");
  assert.ok(ring.writableCalls - asked <= 1, `asked ${ring.writableCalls - asked} times in 50 ticks`);
  // The ring's free space changes without a flush (a sync point written by a commit, say): the next
  // tick looks again, finds it urgent and erases.
  ring.writable = 10;
  busy.clock.advance(2);
  assert.equal(ring.eraseCalls, 1, "urgent once the ring changed");
  assert.ok(busy.capture.samplerStats().urgentErases >= 1);
});

test("sampler: the timer interval divides every whole-ms period (even spacing) and never exceeds 100 ms", () => {
  assert.equal(chooseTick([]), 0);
  assert.equal(chooseTick([250]), 50);
  assert.equal(chooseTick([1000, 100_000]), 100);
  assert.equal(chooseTick([5, 100]), 5);
  assert.equal(chooseTick([1000 / 300, 250]), 2);
  assert.equal(chooseTick([1]), 1);
  assert.equal(chooseTick([0.5]), 1);
  assert.equal(chooseTick([7, 1000]), 1);
});
