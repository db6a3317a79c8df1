// The fixed-shape reading path (Collector.sample with the block writer's addSample inlined): every axis is
// checked for NaN and infinity, a read longer than a period is counted as slow, time_received carries the
// read's own duration, and every good reading is stored exactly — whatever the axis, the latency or the
// order of good and bad reads. A movement sensor scripted per read drives it through the real capture.
import { Capture } from "../../modules/capture/capture";
import type { Component } from "../../modules/capture/component";
import { COMPONENT_MOVEMENT_SENSOR } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryStore } from "../support/memory-store";
import { decodeSensorDataFields } from "../support/sensors-decode";
import { LogLines, machineConfig, WALL_START_MS } from "../support/sensors-rig";

interface Read {
  values: [number, number, number];
  stallMs: number;
}

/** Capture into a memory store of one movement sensor of `model` (from `registry`), AngularVelocity at 100 Hz. */
function startImu(clock: FakeClock | DriftingClock, registry: ModelRegistry, model: string) {
  const store = new MemoryStore();
  const capture = new Capture({
    store,
    clock,
    timers: clock,
    log: new LogLines(),
    registry,
    continueBootId: 1,
  });
  capture.apply(
    parseMachineConfig(
      machineConfig([
        {
          name: "imu",
          api: COMPONENT_MOVEMENT_SENSOR,
          model,
          methods: [{ method: "AngularVelocity", capture_frequency_hz: 100 }],
        },
      ]),
    ),
  );
  return { store, capture };
}

test("fixed-shape path: NaN or infinity in any axis refused, slow reads counted, latency and values stored exactly", () => {
  const clock = new FakeClock(1000);
  clock.setWall(WALL_START_MS);
  const reads: Read[] = [];
  const registry = new ModelRegistry().register("odd", {
    api: COMPONENT_MOVEMENT_SENSOR,
    create: (): Component => ({
      angularVelocity: (out) => {
        const n = reads.length + 1;
        // A value in every axis that a codec would take apart differently: whole, decimal, noisy.
        const values: [number, number, number] = [
          n % 9,
          Math.round(Math.sin(n) * 1e4) / 100,
          Math.cos(n / 3),
        ];
        if (n % 5 === 0) values[n % 3] = Number.NaN;
        if (n % 7 === 0)
          values[(n + 1) % 3] = n % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
        // Every 4th read takes 12 ms (longer than the 10 ms period), the next one 2 ms, the others no time.
        const stallMs = n % 4 === 0 ? 12 : n % 4 === 1 ? 2 : 0;
        if (stallMs > 0) clock.stall(stallMs);
        out[0] = values[0];
        out[1] = values[1];
        out[2] = values[2];
        reads.push({ values, stallMs });
      },
    }),
  });
  const { store, capture } = startImu(clock, registry, "odd");
  clock.advance(20_000);
  capture.flush();
  const stats = capture.stats()[0]!;
  const good = reads.filter((r) => r.values.every((v) => Number.isFinite(v)));
  const bad = reads.length - good.length;
  assert.ok(reads.length > 500 && bad > 100, `${reads.length} reads, ${bad} bad`);
  // Bad values in each axis were refused (the script puts them in all three).
  for (let axis = 0; axis < 3; axis++) {
    assert.ok(
      reads.some((r) => !Number.isFinite(r.values[axis]!)),
      `axis ${axis} had bad values`,
    );
  }
  assert.equal(stats.sensorErrors, bad);
  assert.equal(stats.captured, good.length);
  assert.equal(stats.slowReads, reads.filter((r) => r.stallMs === 12).length);
  // What reached the ring: every good reading, in order, its values exact, time_received − time_requested
  // the read's duration.
  const ring = store.ring(capture.stats()[0]!.key)!;
  const stored: { requestedUs: number; receivedUs: number; payload: Record<string, unknown> }[] = [];
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) break;
    for (const record of chunk.records) {
      const w = new ProtoWriter(1 << 16);
      capture.writeSensorData(record, w, 2);
      stored.push(...decodeSensorDataFields(w.finish(), 2));
    }
    after = chunk.lastSeq;
  }
  assert.equal(stored.length, good.length);
  for (let i = 0; i < good.length; i++) {
    const [x, y, z] = good[i]!.values;
    assert.deepEqual(stored[i]!.payload, { angular_velocity: { x, y, z } }, `reading ${i}`);
    assert.equal(
      stored[i]!.receivedUs - stored[i]!.requestedUs,
      good[i]!.stallMs * 1000,
      `latency of reading ${i}`,
    );
  }
});

/** Timers that re-arm from when their callback returned (a repeating timer that drifts with the work it does). */
class DriftingClock {
  now = 1000;
  private readonly timers: { callback: () => void; due: number; repeat: number; live: boolean }[] = [];
  monotonic(): number {
    return this.now;
  }
  wall(): number {
    return WALL_START_MS + this.now;
  }
  set(callback: () => void, delayMs: number, repeatMs?: number): number {
    this.timers.push({ callback, due: this.now + delayMs, repeat: repeatMs ?? 0, live: true });
    return this.timers.length - 1;
  }
  clear(id: number): void {
    this.timers[id]!.live = false;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let first: (typeof this.timers)[number] | undefined;
      for (const t of this.timers) if (t.live && (!first || t.due < first.due)) first = t;
      if (!first || first.due > end) break;
      if (first.due > this.now) this.now = first.due;
      if (first.repeat === 0) first.live = false;
      first.callback();
      if (first.repeat > 0) first.due = this.now + first.repeat;
    }
    this.now = end;
  }
}

test("sampler: a tick that takes time re-arms its timer onto the grid (a timer that drifts with the work)", () => {
  const clock = new DriftingClock();
  const registry = new ModelRegistry().register("slowish", {
    api: COMPONENT_MOVEMENT_SENSOR,
    create: (): Component => ({
      angularVelocity: (out) => {
        clock.now += 1; // every read takes 1 ms: the tick ends 1 ms after it fired
        out[0] = 1;
        out[1] = 2;
        out[2] = 3;
      },
    }),
  });
  const { store, capture } = startImu(clock, registry, "slowish");
  clock.advance(10_000);
  capture.flush();
  const stats = capture.stats()[0]!;
  assert.equal(stats.missedDeadlines, 0);
  assert.ok(stats.captured >= 999, `${stats.captured} readings in 10 s at 100 Hz`);
  // Every reading was taken on the 10 ms grid, none a ms late (the drift the re-arm removes).
  const ring = store.ring(stats.key)!;
  const chunk = ring.read(1 << 20)!;
  const stamps: number[] = [];
  for (const record of chunk.records) {
    const w = new ProtoWriter(1 << 16);
    capture.writeSensorData(record, w, 2);
    for (const r of decodeSensorDataFields(w.finish(), 2)) stamps.push(r.requestedUs);
  }
  assert.equal(stamps.length, stats.captured);
  for (const us of stamps) assert.equal((us - stamps[0]!) % 10_000, 0, `reading at ${us} µs is on the grid`);
});
