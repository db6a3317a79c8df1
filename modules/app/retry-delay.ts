/*
 * Waits between retries of a boot step (WiFi association, config fetch):
 * doubling from `firstMs` to `capMs`, shortened by up to `jitter` so devices
 * that lost the same access point do not return in lockstep. Boot steps cap
 * low (a minute or a few) because they gate everything else; sync has its own
 * hour-capped backoff.
 */
export class RetryDelay {
  private readonly firstMs: number;
  private readonly capMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  /** Consecutive failures since the last success. */
  failures = 0;

  constructor(firstMs: number, capMs: number, jitter = 0.2, random: () => number = Math.random) {
    this.firstMs = firstMs;
    this.capMs = capMs;
    this.jitter = jitter;
    this.random = random;
  }

  /** Record a failure; the wait before the next try. */
  next(): number {
    this.failures++;
    let delay = this.firstMs;
    for (let i = 1; i < this.failures && delay < this.capMs; i++) delay *= 2;
    if (delay > this.capMs) delay = this.capMs;
    return Math.round(delay * (1 - this.jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
