/*
 * A capture wake: the radio stays off. Read the collectors that are due into
 * RTC memory; only when the held batches fill RTC memory past RTC_FLUSH_FILL
 * open the ring store and append them (one program run per ring, erases only
 * when a ring needs a sector); save the RTC image; return the sleep length.
 * No config fetch, no NVS write, no boot timeline write: a few sensor reads
 * and one copy into RTC memory on most wakes.
 */
import type { ModelRegistry } from "../capture/registry";
import type { CaptureSettings } from "../config/settings";
import type { FlashPort, Logger } from "../ports";
import { openRingStore } from "../storage/ring-store";
import type { PowerRun } from "./power-run";
import { POWER_DEFAULTS } from "./power-settings";

export interface CaptureWakePorts {
  flash: FlashPort;
  registry: ModelRegistry;
  log: Logger;
}

export interface CaptureWakeReport {
  taken: number;
  missed: number;
  overran: boolean;
  /** Readings moved from RTC memory to flash on this wake (0 on most wakes). */
  flushed: number;
  sleepMs: number;
}

export function runCaptureWake(
  run: PowerRun,
  settings: CaptureSettings,
  ports: CaptureWakePorts,
): CaptureWakeReport {
  const budget = settings.power?.captureWakeBudgetMs ?? POWER_DEFAULTS.captureWakeBudgetMs;
  const readings = run.takeDueReadings(settings, ports.registry, budget);
  let flushed = 0;
  if (run.needsFlush(settings)) {
    try {
      const store = openRingStore({ flash: ports.flash, log: ports.log, retainUnsynced: true });
      try {
        for (const a of run.moveToStore(store, settings)) flushed += a.readings;
      } finally {
        store.close();
      }
      ports.log.info(`power: ${flushed} held reading(s) appended to flash`);
    } catch (error) {
      ports.log.error(`power: moving held batches to flash failed: ${(error as Error)?.message ?? error}`);
    }
  }
  const sleepMs = run.finish(settings);
  return { taken: readings.taken, missed: readings.missed, overran: readings.overran, flushed, sleepMs };
}
