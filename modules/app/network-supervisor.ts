/*
 * Keeps the device on the network without ever blocking: capture runs from
 * the first millisecond while this associates, loses and regains WiFi in the
 * background. (Moddable's esp32 `setup/network` waits in `main` until WiFi
 * connects, which would hold capture hostage to the access point.)
 *
 * One timer covers both the association deadline and the retry wait. An
 * attempt that neither succeeds nor fails within `attemptTimeoutMs` counts as
 * failed; retries wait 1 s, 2 s, 4 s … up to `retryCapMs`, reset after a
 * success. A link that drops after being up is retried at once (first wait).
 */
import type { Logger, TimerId, Timers } from "../ports";
import { RetryDelay } from "./retry-delay";

export type LinkEvent = "up" | "down";

/** The platform's network interface (WiFi station on ESP32, always up on a computer). */
export interface NetworkLink {
  /** Start associating; report progress through `listener`. Never blocks. */
  start(listener: (event: LinkEvent) => void): void;
  /** Drop any half-made association and try again. */
  retry(): void;
  close(): void;
}

export interface NetworkSupervisorOptions {
  link: NetworkLink;
  timers: Timers;
  log: Logger;
  /** An attempt with no "up" within this many ms is abandoned (default 30 s). */
  attemptTimeoutMs?: number;
  retryFirstMs?: number;
  /** Longest wait between attempts (default 60 s). */
  retryCapMs?: number;
  random?: () => number;
}

export type NetworkState = "connecting" | "up" | "waiting";

export class NetworkSupervisor {
  private readonly link: NetworkLink;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly attemptTimeoutMs: number;
  private readonly delay: RetryDelay;
  private timer: TimerId | undefined;
  private listeners: ((up: boolean) => void)[] = [];
  private closed = false;
  state: NetworkState = "connecting";
  /** Times the link came up / went down (status and tests). */
  ups = 0;
  downs = 0;

  constructor(options: NetworkSupervisorOptions) {
    this.link = options.link;
    this.timers = options.timers;
    this.log = options.log;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
    this.delay = new RetryDelay(
      options.retryFirstMs ?? 1000,
      options.retryCapMs ?? 60_000,
      0.2,
      options.random,
    );
  }

  /** Called with true when the link comes up and false when it is lost. */
  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  get up(): boolean {
    return this.state === "up";
  }

  start(): void {
    this.state = "connecting";
    this.arm(this.attemptTimeoutMs);
    this.link.start((event) => this.handle(event));
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.link.close();
  }

  private handle(event: LinkEvent): void {
    if (this.closed) return;
    if (event === "up") {
      if (this.state === "up") return;
      this.state = "up";
      this.ups++;
      this.delay.reset();
      this.disarm();
      this.log.info("network: up");
      this.notify(true);
      return;
    }
    const wasUp = this.state === "up";
    if (!wasUp && this.state === "waiting") return;
    this.downs++;
    const wait = this.delay.next();
    this.state = "waiting";
    this.arm(wait);
    this.log.warn(
      wasUp
        ? `network: lost; capture continues, reconnecting in ${wait} ms`
        : `network: connection attempt failed; capture continues, retry ${this.delay.failures} in ${wait} ms`,
    );
    if (wasUp) this.notify(false);
  }

  private onTimer(): void {
    // A fired one-shot Moddable timer is gone: never schedule it again.
    this.timer = undefined;
    if (this.closed) return;
    if (this.state === "connecting") {
      // The attempt hung: treat it as failed.
      this.log.warn(`network: no connection after ${this.attemptTimeoutMs} ms`);
      this.handle("down");
      return;
    }
    if (this.state === "waiting") {
      this.state = "connecting";
      this.arm(this.attemptTimeoutMs);
      this.log.info("network: connecting");
      this.link.retry();
    }
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = this.timers.set(() => this.onTimer(), ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private notify(up: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(up);
      } catch (error) {
        this.log.error(`network: listener failed: ${(error as Error).message}`);
      }
    }
  }
}
