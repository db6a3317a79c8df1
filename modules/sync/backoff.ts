/*
 * Retry spacing after a failed sync: exponential from `firstMs` by `factor`
 * until the interval reaches `capMs` (one hour), then every `capMs` forever.
 * A success resets it. The defaults follow viam-server (200 ms, doubling);
 * the seeds promise the one-hour ceiling.
 *
 * Jitter shortens each wait by a random fraction in [0, jitter): a fleet that
 * lost the cloud at the same moment does not come back in lockstep, and a
 * wait never exceeds the nominal interval, so "at most hourly" holds exactly.
 */

export interface BackoffOptions {
  /** First retry interval in ms (default 200). */
  firstMs?: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
  /** Ceiling in ms (default 3 600 000 = one hour). */
  capMs?: number;
  /** Largest fraction a wait is shortened by (default 0.1; 0 disables jitter). */
  jitter?: number;
  /** Uniform [0, 1) source; injectable so tests replay. */
  random?: () => number;
}

export const BACKOFF_FIRST_MS = 200;
export const BACKOFF_FACTOR = 2;
export const BACKOFF_CAP_MS = 3_600_000;
export const BACKOFF_JITTER = 0.1;

export class Backoff {
  readonly firstMs: number;
  readonly factor: number;
  readonly capMs: number;
  readonly jitter: number;
  private readonly random: () => number;
  /** Consecutive failures since the last success. */
  failures = 0;
  /** The wait chosen after the last failure (0 after a success). */
  currentMs = 0;

  constructor(options: BackoffOptions = {}) {
    const firstMs = options.firstMs ?? BACKOFF_FIRST_MS;
    const factor = options.factor ?? BACKOFF_FACTOR;
    const capMs = options.capMs ?? BACKOFF_CAP_MS;
    const jitter = options.jitter ?? BACKOFF_JITTER;
    if (!(firstMs > 0) || !Number.isFinite(firstMs))
      throw new RangeError(`backoff firstMs must be > 0, got ${firstMs}`);
    if (!(factor >= 1) || !Number.isFinite(factor))
      throw new RangeError(`backoff factor must be ≥ 1, got ${factor}`);
    if (!(capMs >= firstMs) || !Number.isFinite(capMs))
      throw new RangeError(`backoff capMs must be ≥ firstMs, got ${capMs}`);
    if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`backoff jitter must be in [0, 1), got ${jitter}`);
    this.firstMs = firstMs;
    this.factor = factor;
    this.capMs = capMs;
    this.jitter = jitter;
    this.random = options.random ?? Math.random;
  }

  /** The interval before jitter for the n-th consecutive failure (n ≥ 1). */
  nominalMs(n: number): number {
    // Computed by repeated multiplication with an early exit so huge n never overflows.
    let delay = this.firstMs;
    for (let i = 1; i < n && delay < this.capMs; i++) delay *= this.factor;
    return Math.min(delay, this.capMs);
  }

  /** Record a failure; returns how long to wait before the next try. */
  fail(): number {
    this.failures++;
    const nominal = this.nominalMs(this.failures);
    this.currentMs = nominal * (1 - this.jitter * this.random());
    return this.currentMs;
  }

  /** Record a success: the next failure starts again from `firstMs`. */
  succeed(): void {
    this.failures = 0;
    this.currentMs = 0;
  }
}
