/*
 * Deep sleep emulated on the Linux simulator, so the whole battery-mode
 * schedule runs on real Moddable (docs/power.md, "Simulator"). The runner
 * (tools/sim/sleep-cycles.ts) owns the chip's side:
 *
 *   capsync-wake.json  written by the runner before each start:
 *                      {"cause": "power-on" | "deep-sleep" | …, "rtcOffsetMs": n}
 *   capsync-rtc.bin    "RTC memory": kept across starts like RTC slow memory,
 *                      deleted by the runner for a power cut
 *
 * The RTC timer is the host clock plus rtcOffsetMs: the runner fast-forwards
 * it by each sleep instead of waiting. `deepSleep(ms)` traces the request
 * (the core logs "deep sleep N ms") and leaves the app idle; the runner stops
 * mcsim and starts it again after the emulated sleep.
 */
import { File } from "file";
import type { SleepPort, WakeCause } from "../../power/sleep-port";
import { WAKE_CAUSES } from "../../power/sleep-port";

export class LinSleepPort implements SleepPort {
  readonly wakeCause: WakeCause = "power-on";
  private readonly rtcPath: string;
  private readonly offsetMs: number = 0;
  /** The last sleep asked for (the runner reads the trace). */
  sleepMs: number | undefined;

  constructor(root: string) {
    this.rtcPath = `${root}capsync-rtc.bin`;
    const wakePath = `${root}capsync-wake.json`;
    if (File.exists(wakePath)) {
      const file = new File(wakePath);
      try {
        const wake = JSON.parse(file.read(String)) as { cause?: unknown; rtcOffsetMs?: unknown };
        if (WAKE_CAUSES.includes(wake.cause as WakeCause)) this.wakeCause = wake.cause as WakeCause;
        if (typeof wake.rtcOffsetMs === "number" && Number.isFinite(wake.rtcOffsetMs))
          this.offsetMs = wake.rtcOffsetMs;
      } catch {
        // A wake file that does not parse: a power-on with the host clock.
      } finally {
        file.close();
      }
    }
  }

  rtcMs(): number {
    return Date.now() + this.offsetMs;
  }

  loadRtc(): Uint8Array | undefined {
    if (!File.exists(this.rtcPath)) return undefined;
    const file = new File(this.rtcPath);
    try {
      return new Uint8Array(file.read(ArrayBuffer));
    } finally {
      file.close();
    }
  }

  saveRtc(bytes: Uint8Array): void {
    if (File.exists(this.rtcPath)) File.delete(this.rtcPath);
    const file = new File(this.rtcPath, true);
    try {
      file.write(bytes.slice().buffer);
    } finally {
      file.close();
    }
  }

  deepSleep(ms: number): void {
    this.sleepMs = ms;
  }
}
