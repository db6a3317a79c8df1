/*
 * TimeSync over Moddable's `sntp` module. The module retries by itself
 * (message `retry`) and reports `error` when it gives up; boot asks again at
 * the next reconnect. The result also sets the system clock (`Time.set`) via
 * the SettableWallClock's hook, which TLS certificate checks read.
 */
import SNTP from "sntp";
import type { TimeSync } from "../../app/contracts";

export class SntpTimeSync implements TimeSync {
  private readonly host: string;
  /** The request in progress (kept referenced so it is not collected mid-exchange). */
  client: SNTP | undefined;

  constructor(host: string) {
    this.host = host;
  }

  start(done: (epochMs: number, detail: string) => void): void {
    this.client = new SNTP({ host: this.host }, (message, value) => {
      if (message === SNTP.time && value !== undefined) {
        this.client = undefined;
        done(value * 1000, this.host);
      } else if (message === SNTP.error) {
        this.client = undefined;
        done(Number.NaN, `${this.host} did not answer`);
      }
    });
  }

  close(): void {
    this.client = undefined;
  }
}
