/*
 * Emulated deep sleep for the simulator (battery mode, docs/power.md): start
 * the app in mcsim with a wake cause, wait for it to ask for deep sleep
 * ("power: … deep sleep N ms" in its trace), stop it, fast-forward the
 * emulated RTC by N ms, start it again as a deep-sleep wake. The app's side is
 * modules/platform/lin/sleep-port.ts; RTC memory is a file next to the flash
 * images, which a power cut deletes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunningSimulator, runApp, type SdkPaths } from "./simulator";

export interface SleepCycle {
  cause: string;
  kind: "capture" | "sync";
  /** Readings the wake reported taking. */
  taken: number;
  sleepMs: number;
  /** The wake's span on the emulated RTC (= the app's wall clock once set from the host's). */
  startMs: number;
  endMs: number;
}

export interface SleepCycleOptions {
  sdk: SdkPaths;
  so: string;
  /** The simulator's file root (mcconfig `simRoot`), ending in "/". */
  simRoot: string;
  /** Stop after this many wakes, or earlier when `until` says so. */
  wakes: number;
  until?: (cycles: SleepCycle[]) => boolean;
  /** Longest one wake may take before the run fails. */
  wakeTimeoutMs?: number;
  onLine?: (line: string) => void;
}

const SLEEP_LINE =
  /power: (capture wake|sync wake)[^:]*: (\d+) reading\(s\) (?:held|taken).*deep sleep (\d+) ms/;

/** Run emulated sleep cycles from a power-on; returns what each wake did. */
export async function runSleepCycles(options: SleepCycleOptions): Promise<SleepCycle[]> {
  const wakePath = path.join(options.simRoot, "capsync-wake.json");
  fs.rmSync(path.join(options.simRoot, "capsync-rtc.bin"), { force: true });
  const cycles: SleepCycle[] = [];
  let offsetMs = 0;
  let cause = "power-on";
  let asleepSince = 0;
  let sleptMs = 0;
  for (let i = 0; i < options.wakes; i++) {
    // The emulated RTC wakes the chip sleptMs after it went to sleep, however long the host took to
    // stop and start mcsim: that time is taken off the fast-forward.
    if (i > 0) offsetMs += sleptMs - (Date.now() - asleepSince);
    fs.writeFileSync(wakePath, JSON.stringify({ cause, rtcOffsetMs: offsetMs }));
    const startMs = Date.now() + offsetMs;
    let sim: RunningSimulator | undefined;
    let line: string;
    try {
      sim = await runApp({ sdk: options.sdk, so: options.so, onLine: options.onLine });
      line = await sim.waitFor(SLEEP_LINE, options.wakeTimeoutMs ?? 60_000);
    } finally {
      await sim?.stop();
    }
    const m = SLEEP_LINE.exec(line)!;
    const sleepMs = Number(m[3]);
    asleepSince = Date.now();
    sleptMs = sleepMs;
    cycles.push({
      cause,
      kind: m[1] === "capture wake" ? "capture" : "sync",
      taken: Number(m[2]),
      sleepMs,
      startMs,
      endMs: Date.now() + offsetMs,
    });
    cause = "deep-sleep";
    if (options.until?.(cycles)) break;
  }
  fs.rmSync(wakePath, { force: true });
  return cycles;
}
