/*
 * The device's Clock, whose wall time becomes valid during boot.
 *
 * An ESP32 starts at 1970; capture must still timestamp readings (the core
 * marks them with monotonic time while `wall()` is NaN and corrects them
 * later). Boot sets the wall time from whichever source answers first: SNTP,
 * or the `Date` header of the first cloud response. A platform whose clock is
 * already right (the desktop simulator) declares it valid at start.
 */
import type { Clock } from "../ports";

export class SettableWallClock implements Clock {
  private readonly monotonicSource: () => number;
  private readonly onSet: ((epochMs: number) => void) | undefined;
  private offset = Number.NaN;
  /** Where the current wall time came from ("" while unknown). */
  source = "";

  /**
   * @param monotonicSource ms since boot, never backwards.
   * @param onSet called with each new wall time, e.g. to set the system clock
   *   (`Time.set` on Moddable, which TLS certificate checks read).
   */
  constructor(monotonicSource: () => number, onSet?: (epochMs: number) => void) {
    this.monotonicSource = monotonicSource;
    this.onSet = onSet;
  }

  monotonic(): number {
    return this.monotonicSource();
  }

  wall(): number {
    return this.monotonicSource() + this.offset;
  }

  get valid(): boolean {
    return !Number.isNaN(this.offset);
  }

  /** Set the wall time to `epochMs` as of now. Implausible values (before 2020) are refused. */
  set(epochMs: number, source: string): boolean {
    if (!(epochMs > EARLIEST_PLAUSIBLE_MS) || !Number.isFinite(epochMs)) return false;
    this.offset = epochMs - this.monotonicSource();
    this.source = source;
    this.onSet?.(epochMs);
    return true;
  }
}

/** 2020-01-01T00:00:00Z: a clock reading earlier than this is a clock that was never set. */
export const EARLIEST_PLAUSIBLE_MS = 1_577_836_800_000;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parse an HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7:
 * "Sun, 06 Nov 1994 08:49:37 GMT") into epoch ms, or NaN. Hand-written because
 * engines differ in what `Date.parse` accepts and XS is not required to take it.
 */
export function parseHttpDate(text: string): number {
  const m = /^\s*[A-Za-z]{3},\s+(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT\s*$/.exec(
    text,
  );
  if (!m) return Number.NaN;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  const day = Number(m[1]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  return Date.UTC(Number(m[3]), month, day, hour, minute, second);
}
