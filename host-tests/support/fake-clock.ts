/*
 * A fake clock and timers for platform-free tests (both lanes: no Node APIs).
 *
 * Time only moves when the test says so. `advance(ms)` walks time forward and
 * fires every timer that comes due on the way, in deadline order, with the
 * clock reading the timer's trigger time while its callback runs. `stall(ms)`
 * moves time without firing anything, the way a flash erase freezes an ESP32:
 * timers that came due during a stall fire late, once, when time next advances.
 * Callbacks may call `stall` themselves (a slow sensor read, a flash write).
 *
 * Repeating timers re-arm from the moment they actually fired (fire time +
 * repeat), like a timer that drifts under load, so code that wants no drift
 * must keep its own absolute deadlines. A fired one-shot timer can be re-armed
 * with `schedule` until it is cleared.
 */
import type { Clock, TimerId, Timers } from "../../modules/ports";

interface FakeTimer {
  id: number;
  callback: () => void;
  due: number;
  repeat: number;
  live: boolean;
}

export class FakeClock implements Clock, Timers {
  private now: number;
  private wallOffset = Number.NaN;
  private timers: FakeTimer[] = [];
  private nextId = 1;
  /** Callbacks fired so far (all timers). */
  fired = 0;
  /** Optional extra delay (ms) added to every timer firing, e.g. from a seeded PRNG, to model jitter. */
  jitter: (() => number) | undefined;
  /**
   * Timers.steady: repeating timers fire at their last due time plus the interval, as Moddable's do
   * (set before the sampler starts; no jitter then). Otherwise they re-arm from when they fired, as
   * Node's do.
   */
  steady = false;
  /** Timers set so far (a re-arm is a clear and a set). */
  sets = 0;

  constructor(startMonotonicMs = 0) {
    this.now = startMonotonicMs;
  }

  monotonic(): number {
    return this.now;
  }

  wall(): number {
    return this.now + this.wallOffset;
  }

  /** Make the wall clock valid: from now on wall() reads `epochMs` at the current monotonic instant. */
  setWall(epochMs: number): void {
    this.wallOffset = epochMs - this.now;
  }

  /** Back to "wall clock not known" (wall() is NaN). */
  clearWall(): void {
    this.wallOffset = Number.NaN;
  }

  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    this.sets++;
    const timer: FakeTimer = {
      id: this.nextId++,
      callback,
      due: this.now + Math.max(0, delayMs) + (this.jitter?.() ?? 0),
      repeat: repeatMs ?? 0,
      live: true,
    };
    this.timers.push(timer);
    return timer.id;
  }

  /**
   * schedule() calls made from inside the same timer's callback. Moddable's lin timer (timer.c) then
   * keeps two glib sources on one record and one fires after a clear frees it: mcsim crashes.
   */
  reentrantSchedules = 0;
  private running: TimerId | undefined;

  schedule(id: TimerId, delayMs: number, repeatMs?: number): void {
    if (id === this.running) this.reentrantSchedules++;
    const timer = this.find(id);
    if (!timer) throw new Error(`fake timers: schedule of unknown timer ${String(id)}`);
    timer.due = this.now + Math.max(0, delayMs) + (this.jitter?.() ?? 0);
    timer.repeat = repeatMs ?? 0;
    timer.live = true;
  }

  clear(id: TimerId): void {
    const timer = this.find(id);
    if (!timer) return;
    timer.live = false;
    this.timers = this.timers.filter((t) => t !== timer);
  }

  /** Timers still armed. */
  pending(): number {
    return this.timers.filter((t) => t.live).length;
  }

  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /** Move time forward to monotonic `target`, firing due timers in order. */
  advanceTo(target: number): void {
    for (;;) {
      let first: FakeTimer | undefined;
      for (const t of this.timers) if (t.live && (!first || t.due < first.due)) first = t;
      if (!first || first.due > target) break;
      if (first.due > this.now) this.now = first.due;
      if (first.repeat > 0)
        first.due = this.steady ? first.due + first.repeat : this.now + first.repeat + (this.jitter?.() ?? 0);
      // A fired one-shot stays known (not armed) so its callback may re-arm it with schedule().
      else first.live = false;
      this.fired++;
      const outer = this.running;
      this.running = first.id;
      try {
        first.callback();
      } finally {
        this.running = outer;
      }
    }
    if (target > this.now) this.now = target;
  }

  /** Move time forward without firing anything (the CPU was frozen). */
  stall(ms: number): void {
    this.now += ms;
  }

  private find(id: TimerId): FakeTimer | undefined {
    return this.timers.find((t) => t.id === id);
  }
}
