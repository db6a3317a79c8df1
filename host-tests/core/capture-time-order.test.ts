/*
 * time_requested within one collector: every reading has its own, later than
 * the one before. Two readings with one time_requested look like a duplicate
 * (or a wrong timestamp) in Viam; the demo's 200 Hz IMU produced them when a
 * late tick read the sensor twice at one instant to catch up.
 */
import { Capture } from "../../modules/capture/capture";
import type { ModelFactory, SampleFifo } from "../../modules/capture/component";
import { KIND_ANGULAR_VELOCITY } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { FakeClock } from "../support/fake-clock";
import type { DecodedSensorData } from "../support/sensors-decode";
import { CaptureRig, type ComponentEntry, MemoryKv, WALL_START_MS } from "../support/sensors-rig";

const IMU = "rdk:component:movement_sensor";
const SENSOR = "rdk:component:sensor";

function imu(hz: number, attributes: Record<string, unknown> = {}): ComponentEntry {
  return {
    name: "imu",
    api: IMU,
    model: "fake",
    attributes,
    methods: [{ method: "AngularVelocity", capture_frequency_hz: hz }],
  };
}

/** Index of the first reading whose time_requested is not after the previous one's, or -1. */
function firstNotIncreasing(readings: DecodedSensorData[]): number {
  for (let i = 1; i < readings.length; i++) {
    if (readings[i]!.requestedUs <= readings[i - 1]!.requestedUs) return i;
  }
  return -1;
}

function assertIncreasing(readings: DecodedSensorData[], what: string): void {
  const i = firstNotIncreasing(readings);
  if (i < 0) return;
  const a = readings[i - 1]!;
  const b = readings[i]!;
  assert.ok(
    false,
    `${what}: reading ${i} has time_requested ${b.requestedUs} µs, not after reading ${i - 1}'s ${a.requestedUs} µs (payloads ${JSON.stringify(a.payload)} / ${JSON.stringify(b.payload)})`,
  );
}

test("time order: the demo's 200 Hz IMU under a drifting, jittery timer never stamps two readings alike", () => {
  const rig = new CaptureRig();
  const random = new Random(3);
  // Like Node's setInterval (and a busy event loop): each firing up to 0.9 ms late, re-armed from then.
  rig.clock.jitter = () => random.float() * 0.9;
  rig.apply([
    imu(200),
    { name: "t", api: SENSOR, model: "fake", methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
  ]);
  const start = rig.clock.monotonic();
  rig.clock.advance(10_000);
  rig.capture.flush();
  const key = `${IMU}/imu/AngularVelocity`;
  const readings = rig.stored(key);
  assertIncreasing(readings, "200 Hz IMU");
  const s = rig.stats(key);
  // Jitter below one period costs nothing: one reading per deadline, all of them.
  assert.equal(s.missedDeadlines, 0, "no deadline missed to jitter");
  const due = Math.floor(((rig.clock.monotonic() - start) * 200) / 1000) + 1;
  assert.ok(due - s.captured <= 1, `captured ${s.captured} of ${due}`);
  // Readings stay near their 5 ms grid: late by at most the jitter, never early.
  const firstUs = readings[0]!.requestedUs;
  for (let i = 0; i < readings.length; i++) {
    const lateUs = readings[i]!.requestedUs - firstUs - i * 5000;
    assert.ok(lateUs >= 0 && lateUs <= 900, `reading ${i} is ${lateUs} µs off its deadline`);
  }
  // Late ticks re-arm the timer with a new one, never schedule() from inside its own callback, which
  // Moddable's lin timer turns into a use-after-free once capture stops (mcsim died with SIGSEGV).
  assert.equal(rig.clock.reentrantSchedules, 0, "schedule() called from the timer's own callback");
});

test("time order: after a stall a collector reads once, at once; the deadlines it could not serve are missed", () => {
  const rig = new CaptureRig();
  rig.apply([imu(200)]);
  const start = rig.clock.monotonic();
  for (let i = 0; i < 40; i++) {
    rig.clock.advance(97);
    rig.clock.stall(7 + (i % 5) * 11); // flash programs and erases, 7–51 ms
  }
  rig.clock.advance(10);
  rig.capture.flush();
  const key = `${IMU}/imu/AngularVelocity`;
  const readings = rig.stored(key);
  assertIncreasing(readings, "200 Hz IMU with stalls");
  const s = rig.stats(key);
  const due = Math.floor(((rig.clock.monotonic() - start) * 200) / 1000) + 1;
  assert.ok(s.missedDeadlines > 0, "the stalls cost deadlines");
  assert.ok(
    due - (s.captured + s.missedDeadlines) <= 1,
    `captured ${s.captured} + missed ${s.missedDeadlines} of ${due} deadlines`,
  );
  // Never two readings closer than the clock could tell apart: at least the gap of a late tick to the next grid point.
  for (let i = 1; i < readings.length; i++) {
    const gap = readings[i]!.requestedUs - readings[i - 1]!.requestedUs;
    assert.ok(gap >= 1000, `readings ${i - 1} and ${i} are ${gap} µs apart`);
  }
});

test("time order: above 1 kHz a tick reads back to back, but never twice within one clock reading", () => {
  const sensor = (hz: number): ComponentEntry => ({
    name: "fast",
    api: SENSOR,
    model: "scripted",
    methods: [{ method: "Readings", capture_frequency_hz: hz }],
  });
  const key = `${SENSOR}/fast/Readings`;
  // A clock that does not move during a tick (a ms clock, as on the ESP32): 2 kHz yields one reading
  // per ms, the other deadline of each ms is counted as missed.
  const coarse = new CaptureRig();
  coarse.apply([sensor(2000)]);
  let start = coarse.clock.monotonic();
  coarse.clock.advance(1000);
  coarse.capture.flush();
  let s = coarse.stats(key);
  let due = Math.floor((coarse.clock.monotonic() - start) * 2) + 1;
  assertIncreasing(coarse.stored(key), "2 kHz on a frozen clock");
  assert.equal(s.captured + s.missedDeadlines, due, "every deadline accounted for");
  assert.ok(Math.abs(s.captured - 1001) <= 1, `one reading per ms: ${s.captured}`);
  // A clock that moves while the sensor is read (50 µs per read): both deadlines of each ms are read.
  const fine = new CaptureRig();
  fine.script.readCostMs = 0.05;
  fine.apply([sensor(2000)]);
  start = fine.clock.monotonic();
  fine.clock.advance(1000);
  fine.capture.flush();
  s = fine.stats(key);
  due = Math.floor((fine.clock.monotonic() - start) * 2) + 1;
  assertIncreasing(fine.stored(key), "2 kHz on a moving clock");
  assert.equal(s.missedDeadlines, 0);
  assert.ok(due - s.captured <= 2, `captured ${s.captured} of ${due}`);
});

/** A sensor FIFO whose oscillator runs at `factor` × the rate it reports (datasheets allow a few %). */
class DriftingFifo implements SampleFifo {
  private startMs = 0;
  private rate = 0;
  private taken = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly factor: number,
  ) {}
  supports(kind: number): boolean {
    return kind === KIND_ANGULAR_VELOCITY;
  }
  start(_kind: number, hz: number): number {
    this.startMs = this.clock.monotonic();
    this.rate = hz * this.factor;
    this.taken = 0;
    return hz;
  }
  drain(_kind: number, out: Float64Array, maxSamples: number): number {
    const produced = Math.floor(((this.clock.monotonic() - this.startMs) * this.rate) / 1000) + 1;
    const n = Math.min(produced - this.taken, maxSamples);
    for (let i = 0; i < n; i++) {
      out[i * 3] = this.taken + i;
      out[i * 3 + 1] = 0;
      out[i * 3 + 2] = 0;
    }
    this.taken += n;
    return n;
  }
  takeOverflow(): number {
    return 0;
  }
}

for (const factor of [0.97, 1.03]) {
  test(`time order: a FIFO sensor running at ${factor} × its nominal rate is stamped in order, near when it was taken, never after now`, () => {
    const rig = new CaptureRig();
    const drifting: ModelFactory = {
      api: IMU,
      create: ({ clock }) => ({ fifo: new DriftingFifo(clock as FakeClock, factor), angularVelocity() {} }),
    };
    const capture = new Capture({
      store: rig.store,
      clock: rig.clock,
      timers: rig.clock,
      log: rig.log,
      registry: new ModelRegistry().register("drifting", drifting),
    });
    capture.apply(rig.settings([{ ...imu(500), model: "drifting" }]));
    rig.clock.advance(20_000);
    capture.flush();
    const readings = rig.stored(`${IMU}/imu/AngularVelocity`, capture);
    assert.ok(readings.length > 9000, `${readings.length} samples`);
    assertIncreasing(readings, `FIFO at ${factor} × nominal`);
    // Every sample the sensor produced is stored once, in order, and stamped near when the sensor
    // took it: the oscillator's drift does not pile up (3 % of 20 s would be 600 ms).
    const startUs = WALL_START_MS * 1000;
    let worstUs = 0;
    for (let i = 0; i < readings.length; i++) {
      const v = (readings[i]!.payload.angular_velocity as { x: number }).x;
      assert.equal(v, i, `sample ${i}`);
      const takenUs = startUs + (i * 1e6) / (500 * factor);
      const errorUs = Math.abs(readings[i]!.requestedUs - takenUs);
      if (errorUs > worstUs) worstUs = errorUs;
    }
    assert.ok(
      worstUs <= 3 * 2000,
      `within three sensor periods: a sample is stamped ${worstUs} µs from when it was taken`,
    );
    const nowUs = (WALL_START_MS + (rig.clock.monotonic() - 1000)) * 1000;
    assert.ok(readings[readings.length - 1]!.requestedUs <= nowUs, "no sample stamped after now");
    capture.close();
  });
}

test("time order (property): over random rates up to 2 kHz, jitter, stalls, slow reads, reconfigures and the clock becoming valid, time_requested strictly increases per collector", () => {
  const rates = [2000, 1500, 1000, 500, 300, 250, 200, 123.4, 100, 50, 33.3, 10, 7, 1];
  for (let seed = 1; seed <= 24; seed++) {
    const random = new Random(seed);
    const clockValidAtStart = random.float() < 0.5;
    const clock = new FakeClock(1000 + random.float() * 500);
    if (clockValidAtStart) clock.setWall(WALL_START_MS);
    const rig = new CaptureRig(undefined, new MemoryKv(), clock);
    const maxJitter = random.float() * 0.95;
    clock.jitter = () => random.float() * maxJitter;
    const pick = () => rates[Math.floor(random.float() * rates.length)]!;
    const config = (): ComponentEntry[] => [
      {
        name: "a",
        api: SENSOR,
        model: "scripted",
        methods: [{ method: "Readings", capture_frequency_hz: pick() }],
      },
      {
        name: "b",
        api: IMU,
        model: "fake",
        methods: [{ method: "AngularVelocity", capture_frequency_hz: pick() }],
      },
      {
        name: "c",
        api: "rdk:component:board",
        model: "fake",
        attributes: { analogs: ["x"] },
        methods: [
          { method: "Analogs", capture_frequency_hz: pick(), additional_params: { reader_name: "x" } },
        ],
      },
    ];
    rig.apply(config(), { flush_interval_secs: 1 });
    for (let step = 0; step < 30; step++) {
      const r = random.float();
      if (r < 0.3) clock.stall(random.float() * 120);
      else if (r < 0.4) rig.apply(config(), { flush_interval_secs: 1 });
      else if (r < 0.5 && Number.isNaN(clock.wall())) clock.setWall(WALL_START_MS + step * 1000);
      rig.script.readCostMs = random.float() < 0.2 ? random.float() * 3 : 0;
      clock.advance(random.float() * 150);
    }
    if (Number.isNaN(clock.wall())) clock.setWall(WALL_START_MS + 3_600_000);
    clock.advance(50);
    rig.capture.flush();
    for (const s of rig.capture.stats()) {
      const readings = rig.stored(s.key);
      assertIncreasing(readings, `seed ${seed}, ${s.key} (clock valid at start: ${clockValidAtStart})`);
    }
  }
});
