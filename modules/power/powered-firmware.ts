/*
 * The firmware with battery mode: what a platform that can deep-sleep calls
 * instead of startFirmware (modules/platform/esp32-device.ts, and the desktop
 * simulator's emulation).
 *
 *   start ──▶ RTC image + wake cause ──▶ battery mode in the cached config?
 *     no  ──▶ the normal firmware (it watches for battery mode to be switched on)
 *     yes, deep-sleep wake, no sync due ──▶ capture wake (capture-wake.ts) ──▶ deep sleep
 *     yes, sync due or a reboot ──▶ the normal firmware on the run clock, capture off in the
 *          data manager (the power core captures), RTC-held batches adopted into the rings,
 *          one sync round after the network and the config poll, bounded by
 *          deep_sleep_action_timeout_seconds ──▶ deep sleep
 *
 * Overrun rule: a sync wake that reaches its bound stops where it is (what the
 * cloud acknowledged stays acknowledged, the rest waits in flash), counts an
 * overrun, takes the readings due by then, and sleeps; the next sync is
 * retried after the failure backoff (schedule.ts). Deadlines that passed
 * during any wake are counted as missed, never caught up.
 */

import { FlashConfigCache } from "../app/config-cache";
import { type Firmware, type PlatformPorts, startFirmware } from "../app/firmware";
import { SettableWallClock } from "../app/wall-clock";
import { parseMachineConfig } from "../config/machine-config";
import type { CaptureSettings } from "../config/settings";
import type { DataManager } from "../manager/data-manager";
import type { Clock, Logger } from "../ports";
import type { BatteryHooks } from "./battery-hooks";
import { runCaptureWake } from "./capture-wake";
import { PowerRun } from "./power-run";
import { POWER_DEFAULTS } from "./power-settings";
import { RTC_IMAGE_BYTES } from "./rtc-image";
import type { SleepPort } from "./sleep-port";

/** How often a sync wake looks at its progress. */
export const SYNC_WAKE_POLL_MS = 250;
/** The sleep after a sync wake whose end failed (the schedule could not say): the first sync retry. */
export const FALLBACK_SLEEP_MS = 60_000;
/** How long the end of a sync wake waits for the data manager to close before sleeping anyway. */
export const CLOSE_GRACE_MS = 2000;

export function isBatteryMode(settings: CaptureSettings | null | undefined): boolean {
  return settings?.power?.mode === "deep_sleep";
}

/** The cached config's settings (the config the device last ran), or null. */
export function cachedSettings(ports: Pick<PlatformPorts, "configFlash" | "log">): CaptureSettings | null {
  if (!ports.configFlash) return null;
  try {
    const text = new FlashConfigCache(ports.configFlash).load();
    if (text === undefined) return null;
    const envelope = JSON.parse(text) as { config?: unknown };
    if (typeof envelope !== "object" || envelope === null) return null;
    return parseMachineConfig(envelope.config);
  } catch (error) {
    ports.log.warn(`power: cached config unreadable: ${(error as Error)?.message ?? error}`);
    return null;
  }
}

export interface PoweredFirmware {
  /** The running firmware (undefined after a capture wake: the chip went back to sleep). */
  firmware: Firmware | undefined;
  run: PowerRun;
  /** "capture": a capture wake ran and the device sleeps; "firmware": the firmware runs. */
  kind: "capture" | "firmware";
}

export function startPowered(ports: PlatformPorts, power: SleepPort): PoweredFirmware {
  const log = ports.log;
  const cached = cachedSettings(ports);
  const run = new PowerRun(power, log, cached?.dataManager.retainUnsyncedOnReboot === true);
  if (cached && isBatteryMode(cached) && run.continuesRun && !run.wantsSync(cached)) {
    const report = runCaptureWake(run, cached, ports);
    log.info(
      `power: capture wake: ${report.taken} reading(s) held, ${report.flushed} moved to flash; awake ${Math.round(run.runNow() - run.startedMs)} ms; deep sleep ${report.sleepMs} ms`,
    );
    power.deepSleep(report.sleepMs);
    return { firmware: undefined, run, kind: "capture" };
  }
  if (cached && isBatteryMode(cached) && run.continuesRun) {
    run.takeDueReadings(
      cached,
      ports.registry,
      cached.power?.captureWakeBudgetMs ?? POWER_DEFAULTS.captureWakeBudgetMs,
    );
  }

  // In battery mode the firmware keeps run time: its monotonic clock counts through deep sleep, so
  // readings of the whole run share one timeline; the platform clock still gets every setting (TLS
  // reads it). Otherwise the platform's own clock, unchanged.
  let clock = ports.clock;
  if (run.continuesRun || isBatteryMode(cached)) {
    clock = new SettableWallClock(
      () => run.runNow(),
      (ms) => {
        ports.clock.set(ms, ports.clock.source || "run clock");
      },
    );
    if (run.continuesRun && Number.isFinite(run.state.wallOffsetMs)) {
      clock.set(run.runNow() + run.state.wallOffsetMs, "RTC (kept through deep sleep)");
    } else if (ports.clock.valid) clock.set(ports.clock.wall(), ports.clock.source);
  } else {
    // A run that starts later (battery mode switched on by the cloud) keeps this start's time base.
    run.state.runStartRtcMs = power.rtcMs() - ports.clock.monotonic();
  }
  const hooks = batteryHooks(run, cached, log);
  const firmware = startFirmware({ ...ports, clock, battery: hooks });
  const controller = new SyncWake(firmware, run, power, clock, ports, () => hooks.running());
  controller.start();
  const close = firmware.close;
  firmware.close = () => {
    controller.stop();
    close();
  };
  return { firmware, run, kind: "firmware" };
}

/** The data manager hooks of a battery-mode start; `running()` is the last settings the firmware applied. */
export function batteryHooks(
  run: PowerRun,
  cached: CaptureSettings | null,
  log: Logger,
): BatteryHooks & { running(): CaptureSettings | null } {
  let running: CaptureSettings | null = cached;
  return {
    running: () => running,
    managerSettings(settings) {
      running = settings;
      if (!isBatteryMode(settings)) return settings;
      return { ...settings, dataManager: { ...settings.dataManager, captureDisabled: true } };
    },
    managerOptions() {
      return {
        power: {
          continuesRun: run.continuesRun,
          ...(run.continuesRun && run.state.runId > 0 ? { bootId: run.state.runId } : {}),
          adopt: (store) => {
            // The held batches belong to the slots of the config they were taken with: the cached one.
            const settings = cached ?? running;
            if (!settings || run.state.records.length === 0) return [];
            const adopted = run.moveToStore(store, settings);
            let n = 0;
            for (const a of adopted) n += a.readings;
            if (n > 0) log.info(`power: ${n} reading(s) held in RTC memory joined the rings`);
            return adopted;
          },
        },
      };
    },
  };
}

/**
 * The end of a sync wake in battery mode: note the wall clock and the run's
 * boot id, close the data manager (the request in flight finishes), set the
 * next sync by the outcome, take the readings that fell due meanwhile, save
 * the RTC image. Returns the sleep length.
 */
export async function endSyncWake(
  run: PowerRun,
  manager: DataManager | undefined,
  settings: CaptureSettings,
  ok: boolean,
  clock: Clock,
  ports: Pick<PlatformPorts, "registry" | "log">,
  close: (manager: DataManager) => Promise<void> = (manager) => manager.close(),
): Promise<number> {
  const wall = clock.wall();
  if (Number.isFinite(wall)) run.noteWall(wall);
  if (manager) run.adoptRunId(manager.capture.bootId);
  try {
    if (manager) await close(manager);
  } catch (error) {
    ports.log.error(`power: closing the data manager failed: ${(error as Error)?.message ?? error}`);
  }
  run.noteSync(settings, ok);
  // Deadlines that came while the radio was up are served now, not missed.
  run.takeDueReadings(
    settings,
    ports.registry,
    settings.power?.captureWakeBudgetMs ?? POWER_DEFAULTS.captureWakeBudgetMs,
    run.runNow(),
  );
  return run.finish(settings);
}

/**
 * Watches a firmware start: while battery mode is on, waits for the network
 * and the config poll, runs one sync round, and sends the device to sleep.
 */
class SyncWake {
  private timer: unknown;
  private phase: "waiting" | "syncing" | "done" = "waiting";
  private cleared = false;
  private readonly sinceMs: number;

  constructor(
    private readonly firmware: Firmware,
    private readonly run: PowerRun,
    private readonly power: SleepPort,
    private readonly clock: SettableWallClock,
    private readonly ports: PlatformPorts,
    private readonly settings: () => CaptureSettings | null,
  ) {
    this.sinceMs = run.runNow();
  }

  start(): void {
    this.timer = this.ports.timers.set(() => this.poll(), SYNC_WAKE_POLL_MS, SYNC_WAKE_POLL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) this.ports.timers.clear(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    const settings = this.settings();
    if (this.phase === "syncing" && settings && isBatteryMode(settings)) {
      // The bound holds while the round runs too: a request that hangs must not keep the radio up.
      this.checkBound(settings);
      return;
    }
    if (!settings || !isBatteryMode(settings) || this.phase !== "waiting") {
      if (this.phase === "waiting" && settings && !isBatteryMode(settings) && this.run.continuesRun) {
        // Battery mode was switched off at a sync wake: the data manager adopted the held batches at
        // open; the RTC image is cleared once, so a later reset cannot adopt them a second time.
        const manager = this.firmware.manager();
        if (manager && this.run.state.records.length === 0 && !this.cleared) {
          this.cleared = true;
          this.power.saveRtc(new Uint8Array(RTC_IMAGE_BYTES));
          this.ports.log.info("power: battery mode is off; RTC memory cleared, the firmware stays awake");
        }
      }
      return;
    }
    const manager = this.firmware.manager();
    if (manager && this.clock.valid) manager.capture.noteClock();
    if (this.checkBound(settings)) return;
    if (!manager) return;
    const status = this.firmware.boot.status();
    const noCloud = status.credentials === "missing";
    const configDone = status.config.origin === "cloud" || status.config.lastError !== "";
    if (!noCloud && (status.network !== "up" || !configDone)) return;
    this.phase = "syncing";
    this.ports.log.info(
      `power: sync wake: ${noCloud ? "no cloud credentials" : "network up, config checked"}; syncing`,
    );
    manager.syncNow().then(
      (result) => this.end(this.settings() ?? settings, result.ok),
      () => this.end(this.settings() ?? settings, false),
    );
  }

  /** Past the wake's bound: count an overrun and end the wake where it is. */
  private checkBound(settings: CaptureSettings): boolean {
    const budget = settings.power?.syncWakeBudgetMs ?? POWER_DEFAULTS.syncWakeBudgetMs;
    if (this.run.runNow() - this.sinceMs <= budget) return false;
    this.run.state.overruns++;
    this.ports.log.warn(
      `power: the sync wake reached its ${budget} ms bound ${this.phase === "syncing" ? "while syncing" : "before it could sync"}; stopping where it is`,
    );
    void this.end(settings, false);
    return true;
  }

  private async end(settings: CaptureSettings, ok: boolean): Promise<void> {
    if (this.phase === "done") return;
    this.phase = "done";
    this.stop();
    const run = this.run;
    if (!isBatteryMode(settings)) return;
    const timers = this.ports.timers;
    const log = this.ports.log;
    // Closing waits for the request in flight; past CLOSE_GRACE_MS the chip sleeps anyway (what the
    // cloud did not acknowledge stays in flash and is sent again at a later sync wake).
    // A close that fails is logged by endSyncWake, as an unbounded one is.
    const closeBounded = (manager: DataManager): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const timer = timers.set(() => {
          log.warn(`power: the data manager did not close within ${CLOSE_GRACE_MS} ms; sleeping anyway`);
          resolve();
        }, CLOSE_GRACE_MS);
        manager.close().then(
          () => {
            timers.clear(timer);
            resolve();
          },
          (error: unknown) => {
            timers.clear(timer);
            reject(error);
          },
        );
      });
    let sleepMs: number;
    try {
      sleepMs = await endSyncWake(
        run,
        this.firmware.manager(),
        settings,
        ok,
        this.clock,
        this.ports,
        closeBounded,
      );
    } catch (error) {
      // The chip must sleep whatever failed: awake with the radio up it would empty the battery.
      sleepMs = FALLBACK_SLEEP_MS;
      log.error(
        `power: ending the sync wake failed (${(error as Error)?.message ?? error}); sleeping ${sleepMs} ms`,
      );
    }
    try {
      this.firmware.close();
    } catch (error) {
      log.error(`power: closing the firmware failed: ${(error as Error)?.message ?? error}`);
    }
    this.ports.log.info(
      `power: sync wake ${ok ? "done" : "ended without a complete sync"}: ${run.taken} reading(s) taken; awake ${Math.round(run.runNow() - run.startedMs)} ms; deep sleep ${sleepMs} ms`,
    );
    this.power.deepSleep(sleepMs);
  }
}
