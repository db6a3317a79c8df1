/*
 * The sync scheduler. Every `intervalMs` (sync_interval_mins) a round drains
 * every collector's ring through its ChunkUploader.
 *
 * Failure isolation (one bad collector must not hurt the others):
 * - Each collector has its own Backoff (200 ms doubling to one hour, then
 *   hourly; reset by its first success). A collector whose uploads fail
 *   (INTERNAL for it alone, a refusal of everything, a local fault such as a
 *   flash read error or an exception while encoding) is retried on its own
 *   schedule, in a retry round that serves only the collectors due; healthy
 *   collectors keep the sync interval.
 * - A transport failure (refused, reset, timeout: no answer from the cloud)
 *   may be the link or may be the chunk (a request that kills the connection).
 *   The round goes on with the next collector: if its request is answered, the
 *   failure was that collector's (its backoff); if it fails at the transport
 *   too, the link is down and the round ends with the shared transport
 *   backoff, which holds every collector. A last turn's transport failure is
 *   the collector's if a request of the same round was answered, else the link's.
 * - Turn order rotates by one collector per round, so a collector that always
 *   fails cannot always be the one before the others.
 * - Anything a collector's turn throws is caught, counted and logged there.
 *
 * A round is fair and finite: collectors take turns one request at a time, and
 * each uploads at most what was pending when the round began, so a collector
 * capturing faster than the link can carry does not keep a round alive.
 *
 * One Moddable-shaped timer, re-created per wait (sync waits are seconds to an
 * hour apart, so the malloc is irrelevant and a fired one-shot is never touched).
 * Capture is never blocked: a round awaits the network between requests.
 */
import type { Clock, Logger, TimerId, Timers } from "../ports";
import { requestBufferBytes } from "../proto/upload";
import { ProtoWriter } from "../proto/writer";
import { Backoff, type BackoffOptions } from "./backoff";
import { ChunkUploader, StepFailure, type TargetSyncCounters, type UploadLimits } from "./chunk-uploader";
import type { SyncTarget, UploadSender } from "./target";

export const DEFAULT_SYNC_INTERVAL_MS = 6_000;
export const DEFAULT_REQUEST_BUDGET_BYTES = 32 * 1024;
/**
 * A record larger than the budget travels alone up to this many SensorData bytes. The request buffer
 * is sized from it (fixed, at most MAX_REQUEST_BUDGET_BYTES of proto/upload.ts): it must fit the heap.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024;
/**
 * Encoding a 32 KB request takes ~9 ms in XS on a desktop (bench/xs/sync-encode.ts)
 * and tens of times that on an ESP32: requests are closed early rather than
 * freeze the sampler for longer than this.
 */
export const DEFAULT_MAX_STALL_MS = 50;

export interface SyncSettings {
  /** Interval between scheduled rounds in ms (sync_interval_mins × 60 000); any positive value. */
  intervalMs: number;
  /** sync_disabled: no scheduled rounds (capture continues; syncNow still works). */
  disabled: boolean;
  /** Target SensorData bytes per DataCaptureUploadRequest. */
  requestBudgetBytes: number;
  /** No request body ever exceeds this; a record that alone would is set aside. */
  maxRequestBytes: number;
  /** Longest synchronous stretch (read + encode of one request) before the sampler gets the CPU back. */
  maxStallMs: number;
}

export interface SyncServiceOptions {
  sender: UploadSender;
  clock: Clock;
  timers: Timers;
  log: Logger;
  settings?: Partial<SyncSettings>;
  backoff?: BackoffOptions;
}

export type SyncState = "idle" | "syncing" | "backing-off" | "disabled" | "closed";

export interface SyncError {
  reason: string;
  code: number;
  /** Collector whose upload failed. */
  key: string;
  /** Monotonic ms. */
  atMonotonic: number;
  /** Wall-clock ms (NaN while the clock is not valid). */
  atWall: number;
}

export interface SyncStatus {
  state: SyncState;
  settings: SyncSettings;
  rounds: number;
  failedRounds: number;
  /** Monotonic ms of the last round that completed without a failure (NaN: none yet). */
  lastSuccessMonotonic: number;
  /** Wall-clock ms of the same (NaN when none or the clock was not valid). */
  lastSuccessWall: number;
  lastError: SyncError | null;
  /**
   * The longest current backoff: the link's while it is down, else the most-failing
   * collector's (0 when all are healthy). Per collector: `collectors[key].backoffMs`.
   */
  backoffMs: number;
  consecutiveFailures: number;
  /** Consecutive rounds in which the cloud did not answer at all (the shared transport backoff). */
  transportFailures: number;
  /** Ms until the next scheduled round (NaN when none is scheduled). */
  nextRoundInMs: number;
  collectors: Record<string, TargetSyncCounters>;
}

export interface RoundResult {
  ok: boolean;
  /** Records the sync points moved past in this round (sent or set aside). */
  records: number;
  requests: number;
  error?: SyncError;
}

/** Guard against a store that keeps returning chunks it never lets us pass. */
const MAX_STEPS_WITHOUT_PROGRESS = 64;

interface Turn {
  uploader: ChunkUploader;
  quota: number;
  stuck: number;
}

export class SyncService {
  private readonly sender: UploadSender;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly backoffOptions: BackoffOptions | undefined;
  /** Shared backoff for the link itself (no answer from the cloud for anyone). */
  private readonly transport: Backoff;
  private transportRetryAt = Number.NaN;
  /** The one request buffer: fixed, sized from the budget at the start of each round (never grows). */
  private readonly writer: ProtoWriter;
  private settings: SyncSettings;
  private uploaders = new Map<string, ChunkUploader>();
  /** Uploaders of keys no longer targeted: their counters still count. */
  private readonly retired = new Map<string, ChunkUploader>();
  private timer: TimerId | undefined;
  private nextRoundAt = Number.NaN;
  /** When the next interval round (every healthy collector) is due. */
  private nextIntervalAt = Number.NaN;
  private running: Promise<RoundResult> | null = null;
  private closed = false;
  private started = false;
  private rounds = 0;
  private failedRounds = 0;
  private lastSuccessMonotonic = Number.NaN;
  private lastSuccessWall = Number.NaN;
  private lastError: SyncError | null = null;
  private lastRoundEndMonotonic: number;

  constructor(options: SyncServiceOptions) {
    this.sender = options.sender;
    this.clock = options.clock;
    this.timers = options.timers;
    this.log = options.log;
    this.backoffOptions = options.backoff;
    this.transport = new Backoff(options.backoff);
    this.settings = validateSettings({
      intervalMs: DEFAULT_SYNC_INTERVAL_MS,
      disabled: false,
      requestBudgetBytes: DEFAULT_REQUEST_BUDGET_BYTES,
      maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
      maxStallMs: DEFAULT_MAX_STALL_MS,
      ...options.settings,
    });
    this.lastRoundEndMonotonic = this.clock.monotonic();
    this.writer = new ProtoWriter(requestBufferBytes(this.settings.maxRequestBytes, 0), { fixed: true });
  }

  /**
   * The collectors to sync. Counters (and backoff) survive for keys that stay,
   * and for keys that leave (reported until the service closes, resumed if they return).
   */
  setTargets(targets: readonly SyncTarget[]): void {
    const next = new Map<string, ChunkUploader>();
    for (const target of targets) {
      const existing = this.uploaders.get(target.key) ?? this.retired.get(target.key);
      if (existing) {
        existing.target = target;
        this.retired.delete(target.key);
        next.set(target.key, existing);
      } else next.set(target.key, new ChunkUploader(target, this.writer, this.log, this.backoffOptions));
    }
    for (const [key, uploader] of this.uploaders) if (!next.has(key)) this.retired.set(key, uploader);
    this.uploaders = next;
    if (this.started && !this.running) this.schedule();
  }

  /** Begin scheduled sync (the first round after one interval). */
  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.nextIntervalAt = this.clock.monotonic() + this.settings.intervalMs;
    this.schedule();
  }

  /**
   * Change settings at runtime. A new interval takes effect from the last
   * round (or now); backoff waits stand, since the cloud is still failing.
   */
  apply(settings: Partial<SyncSettings>): void {
    const next = validateSettings({ ...this.settings, ...settings });
    const intervalChanged = next.intervalMs !== this.settings.intervalMs;
    const disabledChanged = next.disabled !== this.settings.disabled;
    this.settings = next;
    if (this.closed || !this.started) return;
    if (intervalChanged || disabledChanged)
      this.nextIntervalAt = this.lastRoundEndMonotonic + next.intervalMs;
    if (this.running) return; // scheduled when the round ends
    this.schedule();
  }

  /**
   * Run a round now (the "sync now" trigger) for every collector, whatever the
   * schedule, backoffs or sync_disabled say. If a round is running, runs another one after it.
   */
  async syncNow(): Promise<RoundResult> {
    if (this.closed) return { ok: false, records: 0, requests: 0 };
    while (this.running) await this.running.catch(() => undefined);
    return this.runRound(true);
  }

  /** Resolves when no round is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  status(): SyncStatus {
    const collectors: Record<string, TargetSyncCounters> = {};
    let worst: Backoff = this.transport;
    for (const [key, uploader] of this.retired) collectors[key] = { ...uploader.counters };
    for (const [key, uploader] of this.uploaders) {
      collectors[key] = { ...uploader.counters };
      if (this.transport.failures === 0 && uploader.backoff.failures > worst.failures)
        worst = uploader.backoff;
    }
    let state: SyncState;
    if (this.closed) state = "closed";
    else if (this.running) state = "syncing";
    else if (worst.failures > 0) state = "backing-off";
    else if (this.settings.disabled) state = "disabled";
    else state = "idle";
    return {
      state,
      settings: { ...this.settings },
      rounds: this.rounds,
      failedRounds: this.failedRounds,
      lastSuccessMonotonic: this.lastSuccessMonotonic,
      lastSuccessWall: this.lastSuccessWall,
      lastError: this.lastError,
      backoffMs: worst.currentMs,
      consecutiveFailures: worst.failures,
      transportFailures: this.transport.failures,
      nextRoundInMs: Number.isNaN(this.nextRoundAt)
        ? Number.NaN
        : Math.max(0, this.nextRoundAt - this.clock.monotonic()),
      collectors,
    };
  }

  /** Stop scheduling and wait for a running round to finish its current request. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    await this.idle();
  }

  /**
   * Arm the timer for what is due next: the link's retry while the transport
   * is backing off; otherwise the interval round or a failing collector's own
   * retry, whichever comes first.
   */
  private schedule(): void {
    this.disarm();
    if (this.closed || !this.started || this.settings.disabled) return;
    let due: number;
    if (this.transport.failures > 0) due = this.transportRetryAt;
    else {
      // The interval round matters while some collector is healthy; when all are in their own
      // backoff, the earliest retry is all that is due.
      let healthy = this.uploaders.size === 0;
      due = Number.POSITIVE_INFINITY;
      for (const uploader of this.uploaders.values()) {
        if (uploader.backoff.failures === 0) healthy = true;
        else if (uploader.retryAt < due) due = uploader.retryAt;
      }
      if (healthy && this.nextIntervalAt < due) due = this.nextIntervalAt;
    }
    const now = this.clock.monotonic();
    const delayMs = due > now ? due - now : 0;
    this.nextRoundAt = now + delayMs;
    const id = this.timers.set(() => {
      if (this.timer !== id) return;
      this.timer = undefined;
      this.nextRoundAt = Number.NaN;
      void this.runRound(false);
    }, delayMs);
    this.timer = id;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.nextRoundAt = Number.NaN;
  }

  private runRound(forced: boolean): Promise<RoundResult> {
    this.disarm();
    const round = this.round(forced).finally(() => {
      if (this.running === round) this.running = null;
    });
    this.running = round;
    void round.then(() => {
      if (this.closed || !this.started) return;
      if (this.running !== null) return; // another round already queued by syncNow
      this.schedule();
    });
    return round;
  }

  private async round(forced: boolean): Promise<RoundResult> {
    const clock = this.clock;
    const startedAt = clock.monotonic();
    const limits: UploadLimits = {
      budgetBytes: this.settings.requestBudgetBytes,
      maxRequestBytes: this.settings.maxRequestBytes,
      maxStallMs: this.settings.maxStallMs,
      now: () => clock.monotonic(),
    };
    // Sized for the request ceiling and the largest metadata; reallocated only when those change.
    // A collector whose metadata throws is skipped here: its own turn meets the fault and counts it.
    let metadataBytes = 0;
    for (const uploader of this.uploaders.values()) {
      try {
        metadataBytes = Math.max(metadataBytes, uploader.target.metadata().length);
      } catch {}
    }
    this.writer.resize(requestBufferBytes(this.settings.maxRequestBytes, metadataBytes));
    // A forced round, the link's retry and the interval round serve every healthy collector;
    // a collector in its own backoff joins only once its wait is over (or when forced).
    const intervalRound = forced || this.transport.failures > 0 || startedAt >= this.nextIntervalAt;
    const all = [...this.uploaders.values()];
    const turns: Turn[] = [];
    const n = all.length;
    const offset = n > 0 ? this.rounds % n : 0;
    for (let k = 0; k < n; k++) {
      const uploader = all[(offset + k) % n]!;
      const due = forced || (uploader.backoff.failures > 0 ? uploader.retryAt <= startedAt : intervalRound);
      if (!due) continue;
      const target = uploader.target;
      if (target.ready && !target.ready()) continue;
      const pending = target.ring.counters().pending;
      if (pending > 0) turns.push({ uploader, quota: pending, stuck: 0 });
      else uploader.succeed(); // nothing left to fail on
    }
    let records = 0;
    let requests = 0;
    let error: SyncError | undefined;
    /** A request of this round got an answer from the cloud (the link works). */
    let answered = false;
    /** The collector whose request failed at the transport, until the next request tells link from chunk. */
    let suspect: ChunkUploader | null = null;
    let suspectError: SyncError | undefined;
    let linkDown = false;
    while (turns.length > 0 && !this.closed && !linkDown) {
      for (let i = 0; i < turns.length; ) {
        const turn = turns[i]!;
        const uploader = turn.uploader;
        const counters = uploader.counters;
        const beforeRequests = counters.requests;
        const beforeFailures = counters.failures;
        let finished = false;
        try {
          const step = await uploader.step(this.sender, limits);
          if (counters.requests > beforeRequests || counters.failures > beforeFailures) {
            answered = true;
            if (suspect !== null) suspect = this.chargeSuspect(suspect, suspectError);
          }
          if (step.kind === "empty" || step.kind === "waiting") {
            finished = true;
            this.recovered(uploader);
          } else if (step.kind === "advanced") {
            records += step.records;
            turn.quota -= step.records;
            turn.stuck = 0;
            finished = turn.quota <= 0;
            this.recovered(uploader);
          } else if (++turn.stuck > MAX_STEPS_WITHOUT_PROGRESS) finished = true;
        } catch (thrown) {
          finished = true;
          if (thrown instanceof StepFailure) {
            error = this.noteError(thrown, uploader.target.key);
            if (thrown.connection) {
              if (suspect !== null) linkDown = true;
              else {
                suspect = uploader;
                suspectError = error;
              }
            } else {
              answered = true;
              if (suspect !== null) suspect = this.chargeSuspect(suspect, suspectError);
              this.charge(uploader, error);
            }
          } else {
            // The store or the transcoder threw (flash read error, out of memory while encoding):
            // a fault of this collector's turn, never of the round.
            counters.localFaults++;
            counters.failures++;
            const reason = `local fault: ${(thrown as Error)?.message ?? String(thrown)}`;
            error = this.noteError(
              new StepFailure({ kind: "transient", code: 2, reason }, false),
              uploader.target.key,
            );
            this.charge(uploader, error);
          }
        }
        requests += counters.requests - beforeRequests;
        if (linkDown || this.closed) break;
        if (finished) turns.splice(i, 1);
        else i++;
      }
    }
    if (suspect !== null && !linkDown) {
      // The last transport failure of the round: the collector's if the link answered someone this round.
      if (answered) this.chargeSuspect(suspect, suspectError);
      else linkDown = true;
    }
    this.rounds++;
    const now = clock.monotonic();
    this.lastRoundEndMonotonic = now;
    if (intervalRound) this.nextIntervalAt = now + this.settings.intervalMs;
    if (linkDown) {
      const wait = this.transport.fail();
      this.transportRetryAt = now + wait;
      this.log.warn(
        `sync: no answer from the cloud (${error?.key}: ${error?.reason}); every collector retries in ${Math.round(wait)} ms (failure ${this.transport.failures})`,
      );
    } else if (this.transport.failures > 0 && (answered || turns.length === 0)) {
      this.log.info(`sync: the cloud answers again after ${this.transport.failures} failed round(s)`);
      this.transport.succeed();
      this.transportRetryAt = Number.NaN;
    }
    if (error) {
      this.failedRounds++;
      return { ok: false, records, requests, error };
    }
    this.lastSuccessMonotonic = now;
    this.lastSuccessWall = clock.wall();
    return { ok: true, records, requests };
  }

  /** A collector's own failure: its backoff grows; the others keep their schedule. */
  private charge(uploader: ChunkUploader, error: SyncError): void {
    const wait = uploader.fail(this.clock.monotonic());
    this.log.warn(
      `sync ${uploader.target.key}: upload failed (${error.reason}); this collector retries in ${Math.round(wait)} ms (failure ${uploader.backoff.failures})`,
    );
  }

  /** The request after a transport failure was answered: the failure was the suspect's chunk. */
  private chargeSuspect(suspect: ChunkUploader, error: SyncError | undefined): null {
    if (error) this.charge(suspect, error);
    return null;
  }

  private recovered(uploader: ChunkUploader): void {
    if (uploader.backoff.failures === 0) return;
    this.log.info(`sync ${uploader.target.key}: recovered after ${uploader.backoff.failures} failure(s)`);
    uploader.succeed();
  }

  private noteError(failure: StepFailure, key: string): SyncError {
    const error: SyncError = {
      reason: failure.failure.reason,
      code: failure.failure.code,
      key,
      atMonotonic: this.clock.monotonic(),
      atWall: this.clock.wall(),
    };
    this.lastError = error;
    return error;
  }
}

export function validateSettings(settings: SyncSettings): SyncSettings {
  const { intervalMs, requestBudgetBytes, maxRequestBytes } = settings;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw new RangeError(`sync interval must be a positive number of ms, got ${intervalMs}`);
  }
  if (!(requestBudgetBytes >= 1) || !Number.isFinite(requestBudgetBytes)) {
    throw new RangeError(`sync request budget must be ≥ 1 byte, got ${requestBudgetBytes}`);
  }
  if (!(maxRequestBytes >= requestBudgetBytes) || !Number.isFinite(maxRequestBytes)) {
    throw new RangeError(`sync maxRequestBytes must be ≥ the request budget, got ${maxRequestBytes}`);
  }
  const maxStallMs = settings.maxStallMs;
  if (!(maxStallMs > 0)) throw new RangeError(`sync maxStallMs must be > 0, got ${maxStallMs}`);
  return { intervalMs, disabled: !!settings.disabled, requestBudgetBytes, maxRequestBytes, maxStallMs };
}
