/*
 * The Timers port over Moddable's `timer` module, which already has this
 * shape (set / schedule / clear, one malloc per timer).
 */
import Timer from "timer";
import type { TimerId, Timers } from "../../ports";

export const moddableTimers: Timers = {
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    return repeatMs === undefined ? Timer.set(callback, delayMs) : Timer.set(callback, delayMs, repeatMs);
  },
  schedule(id: TimerId, delayMs: number, repeatMs?: number): void {
    if (repeatMs === undefined) Timer.schedule(id as Timer, delayMs);
    else Timer.schedule(id as Timer, delayMs, repeatMs);
  },
  clear(id: TimerId): void {
    Timer.clear(id as Timer);
  },
};
