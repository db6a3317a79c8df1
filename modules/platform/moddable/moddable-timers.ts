/*
 * The Timers port over Moddable's `timer` module, which already has this
 * shape (set / clear, one malloc per timer; the port has no re-arm, see ports.ts).
 */
import Timer from "timer";
import type { TimerId, Timers } from "../../ports";

export const moddableTimers: Timers = {
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    return repeatMs === undefined ? Timer.set(callback, delayMs) : Timer.set(callback, delayMs, repeatMs);
  },
  clear(id: TimerId): void {
    Timer.clear(id as Timer);
  },
  // modules/base/timer/mc/timer.c: a repeating timer's next trigger is its last one plus the interval.
  steady: true,
};
