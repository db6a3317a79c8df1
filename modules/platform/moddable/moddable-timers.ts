/*
 * The Timers port over Moddable's `timer` module, which already has this
 * shape (set / clear, one malloc per timer; the port has no re-arm, see ports.ts).
 */
import Timer from "timer";
import type { TimerId, Timers } from "../../ports";

function set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
  return repeatMs === undefined ? Timer.set(callback, delayMs) : Timer.set(callback, delayMs, repeatMs);
}

function clear(id: TimerId): void {
  Timer.clear(id as Timer);
}

/**
 * On the ESP32 a repeating timer keeps its grid (Timers.steady): the SDK's
 * modules/base/timer/mc/timer.c sets the next trigger to the last one plus the interval.
 */
export const steadyModdableTimers: Timers = { set, clear, steady: true };

/**
 * In the simulator (lin) timers are GLib timeouts, which count each interval from the
 * dispatch before: they drift, and the sampler holds them on its grid.
 */
export const moddableTimers: Timers = { set, clear };
