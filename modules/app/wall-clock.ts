/*
 * The device's Clock, whose wall time becomes valid during boot.
 *
 * An ESP32 starts at 1970; capture must still timestamp readings (the core
 * marks them with monotonic time while `wall()` is NaN and corrects them
 * later). Boot sets the wall time from whichever source answers first: SNTP,
 * or the `Date` header of the first cloud response. A platform whose clock is
 * already right (the desktop simulator) declares it valid at start.
 */
import { MAX_VALID_WALL_MS } from "../capture/boot-timeline";
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

  /** Set the wall time to `epochMs` as of now. Implausible values (before 2020, from 2100 on) are refused. */
  set(epochMs: number, source: string): boolean {
    if (!(epochMs > EARLIEST_PLAUSIBLE_MS && epochMs < LATEST_PLAUSIBLE_MS)) return false;
    this.offset = epochMs - this.monotonicSource();
    this.source = source;
    this.onSet?.(epochMs);
    return true;
  }
}

/** 2020-01-01T00:00:00Z: a clock reading earlier than this is a clock that was never set. */
export const EARLIEST_PLAUSIBLE_MS = 1_577_836_800_000;
/** 2100-01-01T00:00:00Z: a reading from then on is a wrong clock (capture's bound too). */
export const LATEST_PLAUSIBLE_MS = MAX_VALID_WALL_MS;
/** Years a `Date` header may name: the window above. */
const FIRST_YEAR = 2020;
const LAST_YEAR = 2099;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Longest header value looked at (IMF-fixdate is 29 characters). */
const MAX_DATE_TEXT = 64;

/**
 * Parse an HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7:
 * "Sun, 06 Nov 1994 08:49:37 GMT") into epoch ms, or NaN for anything that is
 * not a real instant in 2020..2099: a day the month does not have (31 Feb,
 * 29 Feb outside leap years, day 0), hour 24, minute or second 60 and more (a
 * leap second's :60 too: one second off is not worth a special case), a
 * weekday that is not the date's (a server that gets it wrong gets the rest
 * wrong too), a year outside the window. Hand-written because engines differ
 * in what `Date.parse` accepts and XS is not required to take it.
 */
export function parseHttpDate(text: string): number {
  if (typeof text !== "string" || text.length > MAX_DATE_TEXT) return Number.NaN;
  const m =
    /^\s*([A-Za-z]{3}),\s+(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT\s*$/.exec(text);
  if (!m) return Number.NaN;
  const weekday = WEEKDAYS.indexOf(m[1]!.toLowerCase());
  const month = MONTHS.indexOf(m[3]!.toLowerCase());
  const day = Number(m[2]);
  const year = Number(m[4]);
  const hour = Number(m[5]);
  const minute = Number(m[6]);
  const second = Number(m[7]);
  if (weekday < 0 || month < 0 || year < FIRST_YEAR || year > LAST_YEAR) return Number.NaN;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 1 && leap ? 29 : MONTH_DAYS[month]!;
  if (day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const epochMs = Date.UTC(year, month, day, hour, minute, second);
  // 1970-01-01 was a Thursday (4).
  if ((Math.floor(epochMs / 86_400_000) + 4) % 7 !== weekday) return Number.NaN;
  return epochMs;
}
