/*
 * Sets the wall clock from the first cloud response's `Date` header when no
 * better source (SNTP) has set it yet. The header has one-second resolution;
 * half a second is added so the error is at most ±0.5 s plus the response's
 * transit time, which is what capture timestamps need before SNTP answers.
 * Only a real instant in 2020..2099 with the right weekday sets it
 * (parseHttpDate); anything else is refused and logged once.
 *
 * Wraps the transport rather than the rpc client so every response, whatever
 * the call, can serve, and the rpc code stays unaware of clocks.
 */
import type { HttpRequest, HttpResponse, HttpTransport, Logger } from "../ports";
import { parseHttpDate, type SettableWallClock } from "./wall-clock";

export class DateHeaderClockTransport implements HttpTransport {
  private readonly inner: HttpTransport;
  private readonly clock: SettableWallClock;
  private readonly log: Logger;
  /** A refused header is logged once, not per response. */
  private refusedLogged = false;

  constructor(inner: HttpTransport, clock: SettableWallClock, log: Logger) {
    this.inner = inner;
    this.clock = clock;
    this.log = log;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const response = await this.inner.request(request);
    if (!this.clock.valid) {
      const header = response.headers.date;
      const epochMs = header === undefined ? Number.NaN : parseHttpDate(header);
      if (this.clock.set(epochMs + 500, "cloud Date header")) {
        this.log.info(`clock: set from the cloud's Date header (${header})`);
      } else if (header !== undefined && !this.refusedLogged) {
        this.refusedLogged = true;
        this.log.warn(
          `clock: the cloud's Date header ${JSON.stringify(String(header).slice(0, 64))} is not a real date in 2020..2099; clock not set from it`,
        );
      }
    }
    return response;
  }

  close(): void {
    this.inner.close();
  }
}
