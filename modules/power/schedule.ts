/*
 * The battery-mode schedule, as pure functions of the RTC state (rtc-image.ts)
 * and the running settings. Times are "run time": RTC milliseconds since the
 * run began, which keep counting through deep sleep.
 *
 * Rules (docs/power.md, "Schedule"):
 * - Each collector keeps an absolute grid: deadline k = origin + k × period,
 *   never a sum of sleeps, so wakes do not drift.
 * - A wake serves every collector whose deadline is at or before now +
 *   COALESCE_MS (a deadline that close is not worth a sleep of its own: a
 *   deep-sleep wake costs tens of ms of boot). One reading per collector per
 *   wake; older deadlines that passed unserved (a wake that overran, a sync
 *   that took the radio for seconds) are counted as missed, never caught up.
 * - A sync wake is due at the sync interval, or at once when a ring passed the
 *   fill threshold. After a failed sync the next one is tried after
 *   1 min, 2, 4 … min, never later than the sync interval and never later
 *   than an hour.
 * - The device sleeps until the earliest of these, at least MIN_SLEEP_MS.
 */
import type { CaptureSettings } from "../config/settings";
import { writeUtf8 } from "../proto/writer";
import { crc32 } from "../storage/crc32";
import type { RtcSlot, RtcState } from "./rtc-image";

/** Deadlines this close are served by the current wake. */
export const COALESCE_MS = 250;
/** Shortest deep sleep. */
export const MIN_SLEEP_MS = COALESCE_MS;
/** Nothing scheduled at all (capture and sync off): look at the config again after this long. */
export const IDLE_SLEEP_MS = 3_600_000;
export const RETRY_FIRST_MS = 60_000;
export const RETRY_CAP_MS = 3_600_000;

export interface SlotSpec {
  key: string;
  periodMs: number;
}

/**
 * The collectors battery mode samples: enabled ones, in key order (as capture sorts them). A wake
 * asks for them several times: PowerRun keeps them (and their hash) per settings object. Not here:
 * a module-level cache would be created at preload and frozen in flash on a Moddable device.
 */
export function slotSpecs(settings: CaptureSettings): SlotSpec[] {
  if (settings.dataManager.captureDisabled) return [];
  return settings.collectors
    .filter((c) => !c.disabled && c.frequencyHz > 0)
    .map((c) => ({ key: c.key, periodMs: 1000 / c.frequencyHz }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Identifies a slot list: a different one (a config change) restarts the slots. */
export function scheduleHash(specs: readonly SlotSpec[]): number {
  let text = "";
  for (const s of specs) text += `${s.key}@${s.periodMs};`;
  const bytes = new Uint8Array(text.length * 3 + 1);
  const n = writeUtf8(text, bytes, 0);
  return crc32(bytes, 0, n);
}

export function deadline(slot: RtcSlot, spec: SlotSpec): number {
  return slot.originMs + slot.index * spec.periodMs;
}

/** Slot indices due at `nowMs`. */
export function dueSlots(state: RtcState, specs: readonly SlotSpec[], nowMs: number): number[] {
  const due: number[] = [];
  for (let i = 0; i < specs.length; i++) {
    const slot = state.slots[i];
    if (slot && deadline(slot, specs[i]!) <= nowMs + COALESCE_MS) due.push(i);
  }
  return due;
}

/**
 * Move a slot past `nowMs` (+ COALESCE_MS): to the first deadline after it.
 * `served`: a reading was just taken for the latest due deadline. Returns the
 * deadlines that passed without a reading.
 */
export function advanceSlot(slot: RtcSlot, spec: SlotSpec, nowMs: number, served: boolean): number {
  const first = slot.index;
  if (deadline(slot, spec) > nowMs + COALESCE_MS) return 0;
  const next = Math.floor((nowMs + COALESCE_MS - slot.originMs) / spec.periodMs) + 1;
  slot.index = next;
  const passed = next - first;
  return served ? passed - 1 : passed;
}

/**
 * Put `state`'s slots on `specs` (a new or changed collector set starts its grid at `nowMs`).
 * `hash`: scheduleHash(specs) when the caller has it already.
 */
export function alignSlots(
  state: RtcState,
  specs: readonly SlotSpec[],
  nowMs: number,
  hash = scheduleHash(specs),
): boolean {
  if (hash === state.scheduleHash && state.slots.length === specs.length) return false;
  state.scheduleHash = hash;
  // The first deadline is one period after the schedule starts (the wake that starts it is under way).
  state.slots = specs.map(() => ({ originMs: nowMs, index: 1 }));
  return true;
}

export function syncDue(state: RtcState, settings: CaptureSettings, nowMs: number): boolean {
  if (settings.dataManager.syncDisabled) return false;
  return state.fillHigh || nowMs + COALESCE_MS >= state.nextSyncMs;
}

/** After a sync wake: the next sync time by the outcome (see the rules above). */
export function afterSync(state: RtcState, settings: CaptureSettings, nowMs: number, ok: boolean): void {
  const interval = settings.dataManager.syncIntervalMins * 60_000;
  state.fillHigh = false;
  if (settings.dataManager.syncDisabled) {
    state.nextSyncMs = Number.POSITIVE_INFINITY;
    return;
  }
  if (ok) {
    state.syncFailures = 0;
    // On the interval's grid, so syncs do not drift by the wakes' lengths; an early sync (fill
    // threshold) keeps the next grid point.
    if (!Number.isFinite(state.nextSyncMs) || state.nextSyncMs > nowMs + interval)
      state.nextSyncMs = nowMs + interval;
    if (state.nextSyncMs <= nowMs + COALESCE_MS) {
      state.nextSyncMs += (Math.floor((nowMs + COALESCE_MS - state.nextSyncMs) / interval) + 1) * interval;
    }
    return;
  }
  state.syncFailures++;
  const backoff = RETRY_FIRST_MS * 2 ** Math.min(20, state.syncFailures - 1);
  state.nextSyncMs = nowMs + Math.min(backoff, interval, RETRY_CAP_MS);
}

/** When to wake next and how long to sleep from `nowMs`. */
export function nextWake(
  state: RtcState,
  specs: readonly SlotSpec[],
  settings: CaptureSettings,
  nowMs: number,
): { atMs: number; sleepMs: number } {
  let at = Number.POSITIVE_INFINITY;
  for (let i = 0; i < specs.length; i++) {
    const slot = state.slots[i];
    if (slot) at = Math.min(at, deadline(slot, specs[i]!));
  }
  if (!settings.dataManager.syncDisabled) at = Math.min(at, state.fillHigh ? nowMs : state.nextSyncMs);
  if (!Number.isFinite(at)) at = nowMs + IDLE_SLEEP_MS;
  const sleepMs = Math.max(MIN_SLEEP_MS, Math.ceil(at - nowMs));
  return { atMs: at, sleepMs };
}
