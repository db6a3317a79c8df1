/*
 * The sync scheduler: every `intervalMs` (sync_interval_mins) it runs a round
 * that drains every collector's ring through its ChunkUploader; after a failed
 * round it waits per the Backoff instead (200 ms doubling to one hour, then
 * hourly), and the first successful round restores the interval.
 *
 * A round is fair and finite: collectors take turns one request at a time, and
 * each uploads at most what was pending when the round began, so a collector
 * capturing faster than the link can carry does not keep a round alive.
 * A failure with no answer from the cloud (refused, reset, timeout) ends the
 * round at once: every other collector would hit the same wall. A failure the
 * cloud answered (UNAVAILABLE, INTERNAL, …) only ends that collector's turn,
 * so a chunk the cloud chokes on cannot hold the others back.
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
  /** The wait chosen after the last failure (0 when the last round succeeded). */
  backoffMs: number;
  consecutiveFailures: number;
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

export class SyncService {
  private readonly sender: UploadSender;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  /** The one request buffer: fixed, sized from the budget at the start of each round (never grows). */
  private readonly writer: ProtoWriter;
  private settings: SyncSettings;
  private uploaders = new Map<string, ChunkUploader>();
  /** Uploaders of keys no longer targeted: their counters still count. */
  private readonly retired = new Map<string, ChunkUploader>();
  private timer: TimerId | undefined;
  private nextRoundAt = Number.NaN;
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
    this.backoff = new Backoff(options.backoff);
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
   * The collectors to sync. Counters survive for keys that stay, and for keys
   * that leave (reported until the service closes, resumed if they return).
   */
  setTargets(targets: readonly SyncTarget[]): void {
    const next = new Map<string, ChunkUploader>();
    for (const target of targets) {
      const existing = this.uploaders.get(target.key) ?? this.retired.get(target.key);
      if (existing) {
        existing.target = target;
        this.retired.delete(target.key);
        next.set(target.key, existing);
      } else next.set(target.key, new ChunkUploader(target, this.writer, this.log));
    }
    for (const [key, uploader] of this.uploaders) if (!next.has(key)) this.retired.set(key, uploader);
    this.uploaders = next;
  }

  /** Begin scheduled sync (the first round after one interval). */
  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.arm(this.settings.intervalMs);
  }

  /**
   * Change settings at runtime. A new interval takes effect from the last
   * round (or now); during a backoff the backoff wait stands, since the cloud
   * is still failing.
   */
  apply(settings: Partial<SyncSettings>): void {
    const next = validateSettings({ ...this.settings, ...settings });
    const intervalChanged = next.intervalMs !== this.settings.intervalMs;
    const disabledChanged = next.disabled !== this.settings.disabled;
    this.settings = next;
    if (this.closed || !this.started) return;
    if (next.disabled) {
      this.disarm();
      return;
    }
    if (this.running) return; // re-armed when the round ends
    if (this.backoff.failures > 0) {
      // The cloud is still failing: the backoff wait stands (re-armed only if sync was just re-enabled).
      if (disabledChanged) this.arm(this.backoff.currentMs);
      return;
    }
    if (disabledChanged || intervalChanged) {
      const since = this.clock.monotonic() - this.lastRoundEndMonotonic;
      this.arm(Math.max(0, next.intervalMs - since));
    }
  }

  /**
   * Run a round now (the "sync now" trigger), whatever the schedule, backoff or
   * sync_disabled say. If a round is running, runs another one after it.
   */
  async syncNow(): Promise<RoundResult> {
    if (this.closed) return { ok: false, records: 0, requests: 0 };
    while (this.running) await this.running.catch(() => undefined);
    return this.runRound();
  }

  /** Resolves when no round is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  status(): SyncStatus {
    const collectors: Record<string, TargetSyncCounters> = {};
    for (const [key, uploader] of this.retired) collectors[key] = { ...uploader.counters };
    for (const [key, uploader] of this.uploaders) collectors[key] = { ...uploader.counters };
    let state: SyncState;
    if (this.closed) state = "closed";
    else if (this.running) state = "syncing";
    else if (this.backoff.failures > 0) state = "backing-off";
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
      backoffMs: this.backoff.currentMs,
      consecutiveFailures: this.backoff.failures,
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

  private arm(delayMs: number): void {
    this.disarm();
    if (this.closed || this.settings.disabled) return;
    this.nextRoundAt = this.clock.monotonic() + delayMs;
    const id = this.timers.set(() => {
      if (this.timer !== id) return;
      this.timer = undefined;
      this.nextRoundAt = Number.NaN;
      void this.runRound();
    }, delayMs);
    this.timer = id;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.nextRoundAt = Number.NaN;
  }

  private runRound(): Promise<RoundResult> {
    this.disarm();
    const round = this.round().finally(() => {
      if (this.running === round) this.running = null;
    });
    this.running = round;
    void round.then((result) => {
      if (this.closed || !this.started) return;
      if (this.running !== null) return; // another round already queued by syncNow
      this.arm(result.ok ? this.settings.intervalMs : this.backoff.currentMs);
    });
    return round;
  }

  private async round(): Promise<RoundResult> {
    const clock = this.clock;
    const limits: UploadLimits = {
      budgetBytes: this.settings.requestBudgetBytes,
      maxRequestBytes: this.settings.maxRequestBytes,
      maxStallMs: this.settings.maxStallMs,
      now: () => clock.monotonic(),
    };
    // Sized for the request ceiling and the largest metadata; reallocated only when those change.
    let metadataBytes = 0;
    for (const uploader of this.uploaders.values())
      metadataBytes = Math.max(metadataBytes, uploader.target.metadata().length);
    this.writer.resize(requestBufferBytes(this.settings.maxRequestBytes, metadataBytes));
    const turns: { uploader: ChunkUploader; quota: number; stuck: number }[] = [];
    for (const uploader of this.uploaders.values()) {
      const target = uploader.target;
      if (target.ready && !target.ready()) continue;
      const pending = target.ring.counters().pending;
      if (pending > 0) turns.push({ uploader, quota: pending, stuck: 0 });
    }
    let records = 0;
    let requests = 0;
    let error: SyncError | undefined;
    let connectionDown = false;
    while (turns.length > 0 && !this.closed && !connectionDown) {
      for (let i = 0; i < turns.length; ) {
        const turn = turns[i]!;
        const before = turn.uploader.counters.requests;
        let finished = false;
        try {
          const step = await turn.uploader.step(this.sender, limits);
          if (step.kind === "empty" || step.kind === "waiting") finished = true;
          else if (step.kind === "advanced") {
            records += step.records;
            turn.quota -= step.records;
            turn.stuck = 0;
            finished = turn.quota <= 0;
          } else if (++turn.stuck > MAX_STEPS_WITHOUT_PROGRESS) finished = true;
        } catch (thrown) {
          // Anything but a StepFailure comes from the store or the transcoder (e.g. flash gone):
          // end the round and back off rather than let it escape as an unhandled rejection.
          const failure =
            thrown instanceof StepFailure
              ? thrown
              : new StepFailure(
                  { kind: "transient", code: 2, reason: `local: ${(thrown as Error)?.message ?? thrown}` },
                  true,
                );
          error = this.noteError(failure, turn.uploader.target.key);
          finished = true;
          connectionDown = failure.connection;
        }
        requests += turn.uploader.counters.requests - before;
        if (connectionDown || this.closed) break;
        if (finished) turns.splice(i, 1);
        else i++;
      }
    }
    this.rounds++;
    this.lastRoundEndMonotonic = this.clock.monotonic();
    if (error) {
      this.failedRounds++;
      const wait = this.backoff.fail();
      this.log.warn(
        `sync: round failed (${error.key}: ${error.reason}); retry in ${Math.round(wait)} ms (failure ${this.backoff.failures})`,
      );
      return { ok: false, records, requests, error };
    }
    if (this.backoff.failures > 0)
      this.log.info(`sync: recovered after ${this.backoff.failures} failed round(s)`);
    this.backoff.succeed();
    this.lastSuccessMonotonic = this.clock.monotonic();
    this.lastSuccessWall = this.clock.wall();
    return { ok: true, records, requests };
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
