/*
 * Keeps the running config equal to the cloud's, without reboots.
 *
 * At boot it runs the cached last good config (so capture starts offline).
 * While the network is up it fetches the part's config at once and then every
 * `pollMs` (default 60 s: a revision change reaches the device within a
 * minute, at the cost of one small request per minute on the kept-alive
 * connection). A config that differs from the running one is validated; if
 * usable it is applied and cached, otherwise it is logged once and the last
 * good config keeps running. Fetch failures retry after 5 s doubling to 5 min.
 *
 * "Differs" compares the config's canonical JSON, not only the revision: a
 * cloud that serves no revision, or a cached config written by an older
 * build, still converges.
 */
import type { Logger, TimerId, Timers } from "../ports";
import { Code, RpcError } from "../rpc/status";
import type { ConfigCache } from "./config-cache";
import type { CloudConfigSource, InterpretConfig } from "./contracts";
import { RetryDelay } from "./retry-delay";

export const DEFAULT_CONFIG_POLL_MS = 60_000;

export interface ConfigFollowerOptions<S> {
  interpret: InterpretConfig<S>;
  apply: (settings: S) => void;
  cache: ConfigCache | null;
  timers: Timers;
  log: Logger;
  pollMs?: number;
  retryFirstMs?: number;
  retryCapMs?: number;
  random?: () => number;
}

export type ConfigOrigin = "none" | "cache" | "cloud";

interface CachedEnvelope {
  revision: string;
  config: unknown;
}

export class ConfigFollower<S> {
  private readonly options: ConfigFollowerOptions<S>;
  private readonly timers: Timers;
  private readonly log: Logger;
  private pollMs: number;
  private readonly retry: RetryDelay;
  private source: CloudConfigSource | null = null;
  private timer: TimerId | undefined;
  private inFlight = false;
  private online = false;
  private closed = false;
  private runningText = "";
  private rejectedText = "";
  /** Where the running config came from. */
  origin: ConfigOrigin = "none";
  revision = "";
  /** Configs applied, fetches done / failed (status and tests). */
  applied = 0;
  fetches = 0;
  fetchFailures = 0;
  rejected = 0;
  lastError = "";

  constructor(options: ConfigFollowerOptions<S>) {
    this.options = options;
    this.timers = options.timers;
    this.log = options.log;
    this.pollMs = options.pollMs ?? DEFAULT_CONFIG_POLL_MS;
    this.retry = new RetryDelay(
      options.retryFirstMs ?? 5000,
      options.retryCapMs ?? 300_000,
      0.2,
      options.random,
    );
  }

  /** Run the cached config, if one survives and is usable. Returns true when capture could start from it. */
  startFromCache(): boolean {
    const cache = this.options.cache;
    if (!cache) {
      this.log.info("config: this platform keeps no config cache");
      return false;
    }
    let text: string | undefined;
    try {
      text = cache.load();
    } catch (error) {
      this.log.error(
        `config: the cache could not be read (${(error as Error).message}); waiting for the cloud`,
      );
      return false;
    }
    if (text === undefined) {
      this.log.info("config: no cached config yet; capture starts when the cloud's config arrives");
      return false;
    }
    let envelope: CachedEnvelope;
    try {
      envelope = JSON.parse(text) as CachedEnvelope;
      if (typeof envelope !== "object" || envelope === null || typeof envelope.revision !== "string") {
        throw new Error("not a cached config envelope");
      }
    } catch (error) {
      this.log.error(
        `config: the cached config is unreadable (${(error as Error).message}); waiting for the cloud`,
      );
      return false;
    }
    return this.consider(envelope.revision, envelope.config, "cache");
  }

  /** Change the poll interval (the config itself may set it); takes effect from the next poll. */
  setPollMs(ms: number): void {
    if (ms > 0 && Number.isFinite(ms)) this.pollMs = ms;
  }

  /** The cloud to follow (null: no credentials, nothing to follow). */
  setSource(source: CloudConfigSource | null): void {
    this.source = source;
  }

  /** The network came up (fetch now) or went down (stop polling until it returns). */
  setOnline(up: boolean): void {
    this.online = up;
    if (!up) {
      this.disarm();
      return;
    }
    this.retry.reset();
    this.fetchSoon(0);
  }

  /** Fetch now (unless a fetch is already under way). */
  fetchSoon(delayMs: number): void {
    if (this.closed || !this.source || !this.online) return;
    this.disarm();
    this.timer = this.timers.set(() => this.onTimer(), delayMs);
  }

  close(): void {
    this.closed = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    // A fired one-shot Moddable timer is gone: never schedule it again.
    this.timer = undefined;
    if (this.inFlight || this.closed || !this.online || !this.source) return;
    this.inFlight = true;
    this.fetches++;
    this.source.fetchConfig().then(
      (fetched) => {
        this.inFlight = false;
        if (this.closed) return;
        this.retry.reset();
        this.lastError = "";
        try {
          this.consider(fetched.revision, fetched.config, "cloud");
        } catch (error) {
          // An unhandled rejection aborts the XS machine: nothing may escape.
          this.log.error(`config: applying the fetched config failed: ${(error as Error).message}`);
        }
        this.fetchSoon(this.pollMs);
      },
      (error: unknown) => {
        this.inFlight = false;
        if (this.closed) return;
        this.fetchFailures++;
        const wait = this.retry.next();
        this.lastError = describeFetchError(error);
        const running =
          this.origin === "none"
            ? "nothing is captured until a config arrives"
            : `running config from ${this.origin} stays`;
        this.log.error(`config: fetch failed: ${this.lastError}; ${running}; retry in ${wait} ms`);
        this.fetchSoon(wait);
      },
    );
  }

  /** Apply `config` if it is new and usable. Returns true when it is (now) the running config. */
  private consider(revision: string, config: unknown, from: "cache" | "cloud"): boolean {
    let text: string;
    try {
      text = JSON.stringify(config) ?? "";
    } catch (error) {
      this.log.error(`config: from ${from} cannot be serialized (${(error as Error).message})`);
      return false;
    }
    if (text === this.runningText) {
      if (from === "cloud" && this.origin === "cache") {
        this.origin = "cloud";
        this.log.info(
          `config: the cloud's config equals the cached one (revision "${revision}"); nothing to change`,
        );
      }
      return true;
    }
    if (text === this.rejectedText) return false;
    const result = this.options.interpret(config);
    if (result.settings === null) {
      this.rejected++;
      this.rejectedText = text;
      const keep =
        this.origin === "none"
          ? "no earlier config to fall back on"
          : `keeping the last good config (revision "${this.revision}")`;
      this.log.error(
        `config: revision "${revision}" from ${from} rejected: ${result.errors.join("; ") || "unusable"}; ${keep}`,
      );
      return false;
    }
    for (const error of result.errors)
      this.log.warn(`config: revision "${revision}": ${error} (entry skipped, the rest runs)`);
    try {
      this.options.apply(result.settings);
    } catch (error) {
      this.rejected++;
      this.rejectedText = text;
      this.log.error(`config: revision "${revision}" could not be applied: ${(error as Error).message}`);
      return false;
    }
    const previous = this.revision;
    this.runningText = text;
    this.revision = revision;
    this.origin = from;
    this.applied++;
    this.log.info(
      from === "cache"
        ? `config: capturing from the cached config (revision "${revision}") before any network`
        : this.applied === 1
          ? `config: applied the cloud's config (revision "${revision}")`
          : `config: applied revision "${revision}" (was "${previous}") without a reboot`,
    );
    if (from === "cloud") this.save(revision, config);
    return true;
  }

  private save(revision: string, config: unknown): void {
    const cache = this.options.cache;
    if (!cache) return;
    try {
      cache.save(JSON.stringify({ revision, config }));
    } catch (error) {
      this.log.warn(`config: not cached (${(error as Error).message}); the next boot waits for the cloud`);
    }
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof RpcError) {
    if (error.code === Code.UNAUTHENTICATED || error.code === Code.PERMISSION_DENIED) {
      return `the cloud refused the credentials (${error.message}): check part_id and part_secret against the part's viam.json`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
