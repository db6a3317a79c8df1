/*
 * One collector's uploader: read the records after the ring's sync point,
 * encode them as one DataCaptureUploadRequest no larger than the request
 * budget, send it, and move the sync point only after the cloud acknowledged.
 *
 * Rules that keep a ring moving (none of them can loop forever):
 * - Budget: a request carries records while their SensorData bytes stay within
 *   `budgetBytes`. A record that alone exceeds the budget travels alone.
 *   A record whose request would exceed `maxRequestBytes` is never sent: it is
 *   set aside as "oversized".
 * - A record that capture's transcoder cannot decode is set aside as
 *   "undecodable"; the rest of its chunk is still sent.
 * - Too large (RESOURCE_EXHAUSTED, HTTP 413): the collector's request cap
 *   drops to half the refused request's SensorData bytes and the next request
 *   is built under it, down to a single record. The cap holds for the
 *   collector until the service is rebuilt (a server limit does not move).
 * - A chunk the cloud rejects (INVALID_ARGUMENT, OUT_OF_RANGE) is bisected:
 *   its first half is retried on its own, and so on down to a single record.
 * - A single record refused (rejected, or too large alone) becomes a
 *   *suspect*: it is not set aside yet. The next request carries the records
 *   after it; only when the cloud acknowledges that request does the sync point
 *   move past both, the suspects counted as `rejected` / `tooLarge` and
 *   logged. So nothing is set aside unless the cloud is seen accepting the
 *   same collector's data right after it. A suspect with nothing after it
 *   waits for the next record.
 * - Mass rejection: `MAX_SUSPECTS` suspects in a row with no request accepted
 *   means the cloud refuses everything (a metadata problem, a cloud-side
 *   change, a quota): nothing is set aside, the suspects are forgotten, the
 *   step fails (`rejectedAll` counted, logged) and the collector backs off;
 *   the next try starts again at its sync point.
 * - Set-aside records are committed past (their flash space is reused) and
 *   counted per collector; every set-aside is logged with its reason.
 * - The in-flight chunk is bound to the ring object it was read from: if the
 *   collector's ring was replaced while the request was out (a reconfigure),
 *   nothing is committed on the replacement.
 *
 * The ring contract gives a chunk's last sequence number but not each
 * record's, so when the encoded request is cut short the ring is read again
 * with exactly the kept records' byte count: `read` is greedy, so that returns
 * the same prefix and its true `lastSeq`. The wire/flash size ratio is learned
 * so the first read usually fits and the second read is rare.
 */

import type { Logger } from "../ports";
import type { ProtoWriter } from "../proto/writer";
import type { ReadChunk, Ring } from "../storage/types";
import { Backoff, type BackoffOptions } from "./backoff";
import { classifyFailure, type Failure } from "./failure";
import { FRAME_ROOM, type SyncTarget, type UploadSender } from "./target";

/** DataCaptureUploadRequest.metadata (viam.app.datasync.v1); the transcoder writes sensor_contents (2). */
const REQUEST_METADATA = 1;

/** Per-collector sync counts. Reading counts (a record may hold several readings) unless named otherwise. */
export interface TargetSyncCounters {
  /** Readings acknowledged by the cloud and committed. */
  synced: number;
  /** Requests acknowledged. */
  requests: number;
  /** Request bytes acknowledged (the DataCaptureUploadRequest bodies). */
  bytesSent: number;
  /** Readings set aside because the cloud rejected them. */
  rejected: number;
  /** Readings set aside because their record could not be decoded. */
  undecodable: number;
  /** Readings set aside because their record alone exceeds maxRequestBytes. */
  oversized: number;
  /** Readings set aside because the cloud refused their record alone as too large (RESOURCE_EXHAUSTED, HTTP 413). */
  tooLarge: number;
  /** Times the cloud refused MAX_SUSPECTS records in a row with nothing accepted: kept, backed off. */
  rejectedAll: number;
  /** Local faults on this collector's turn (flash read/commit error, exception while encoding). */
  localFaults: number;
  /** Failed upload attempts of this collector's chunks (any kind, local faults included). */
  failures: number;
  /** State, not a count: consecutive failures of this collector (its own backoff; 0 when healthy). */
  consecutiveFailures: number;
  /** State: the backoff wait chosen after its last failure (0 when healthy). */
  backoffMs: number;
}

export type StepResult =
  /** Nothing after the sync point. */
  | { kind: "empty" }
  /** The sync point moved past `records` records (sent and/or set aside). */
  | { kind: "advanced"; records: number }
  /** The cloud rejected a multi-record chunk; a smaller one is tried next. */
  | { kind: "narrowed" }
  /** The next record cannot be uploaded yet (its times wait for a valid wall clock, or a suspect waits for a record after it). */
  | { kind: "waiting" }
  /** The collector's ring was replaced while the request was out: nothing committed. */
  | { kind: "stale" };

/** A transient failure of one step; the chunk stays pending. */
export class StepFailure extends Error {
  readonly failure: Failure;
  /** True when the failure happened below gRPC (no answer from the cloud). */
  readonly connection: boolean;
  /** True when the step failed because the cloud refused every record it was offered (mass rejection). */
  readonly rejectedAll: boolean;
  constructor(failure: Failure, connection: boolean, rejectedAll = false) {
    super(failure.reason);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "StepFailure" });
    this.failure = failure;
    this.connection = connection;
    this.rejectedAll = rejectedAll;
  }
}

export interface UploadLimits {
  /** Target SensorData bytes per request. */
  budgetBytes: number;
  /** Hard ceiling for one request body. */
  maxRequestBytes: number;
  /**
   * Longest the device may spend reading and encoding one request without
   * yielding (the sampler cannot run meanwhile). The request is closed early
   * when it is reached, and the next read is sized from the measured rate.
   */
  maxStallMs: number;
  /** Monotonic ms (the stall is measured on the real clock of the device). */
  now: () => number;
}

const ZERO_BYTE = new Uint8Array(1);
const RATIO_MIN = 0.25;
const RATIO_MAX = 16;
/** Refused single records in a row, with no request accepted, that mean "the cloud refuses everything". */
export const MAX_SUSPECTS = 8;

/** Counters of a collector that has not uploaded anything yet. */
export function zeroSyncCounters(): TargetSyncCounters {
  return {
    synced: 0,
    requests: 0,
    bytesSent: 0,
    rejected: 0,
    undecodable: 0,
    oversized: 0,
    tooLarge: 0,
    rejectedAll: 0,
    localFaults: 0,
    failures: 0,
    consecutiveFailures: 0,
    backoffMs: 0,
  };
}

export class ChunkUploader {
  target: SyncTarget;
  readonly counters: TargetSyncCounters = zeroSyncCounters();
  /** This collector's own retry spacing (a failing collector never delays the others). */
  readonly backoff: Backoff;
  /** Monotonic ms before which this collector is not retried (NaN while healthy). */
  retryAt = Number.NaN;
  /**
   * Learned SensorData bytes per stored byte. Starts at 1: too generous a
   * first read only costs one re-read, too stingy a one would send a small request.
   */
  private ratio = 1;
  /** The ring the narrowing and suspect state below refer to. */
  private boundRing: Ring | null = null;
  /** While > 0: the cloud rejected a chunk ending at `narrowUntilSeq`; read at most this many stored bytes. */
  private narrowBudget = 0;
  private narrowUntilSeq = 0;
  /** SensorData bytes per request the cloud is known to take (lowered by too-large refusals). */
  private sizeCap = Number.POSITIVE_INFINITY;
  /** Refused single records after the sync point, not set aside until the cloud accepts what follows. */
  private suspects = 0;
  private suspectFirstSeq = 0;
  private suspectLastSeq = 0;
  private suspectRejected = 0;
  private suspectTooLarge = 0;
  private suspectUndecodable = 0;
  private suspectOversized = 0;
  private suspectReason = "";
  /** Measured read + encode throughput (stored bytes per ms); 0 until measured. */
  private storedBytesPerMs = 0;

  constructor(
    target: SyncTarget,
    private readonly writer: ProtoWriter,
    private readonly log: Logger,
    backoff?: BackoffOptions,
  ) {
    this.target = target;
    this.backoff = new Backoff(backoff);
  }

  /** Record a failure of this collector: its own backoff grows. Returns the wait. */
  fail(now: number): number {
    const wait = this.backoff.fail();
    this.retryAt = now + wait;
    this.counters.consecutiveFailures = this.backoff.failures;
    this.counters.backoffMs = wait;
    return wait;
  }

  /** This collector got through: back to the sync interval. */
  succeed(): void {
    this.backoff.succeed();
    this.retryAt = Number.NaN;
    this.counters.consecutiveFailures = 0;
    this.counters.backoffMs = 0;
  }

  /** Request SensorData bytes the cloud is known to take for this collector (Infinity: no refusal seen). */
  get requestCapBytes(): number {
    return this.sizeCap;
  }

  /** Upload (or set aside) the next chunk. Throws StepFailure on a transient failure. */
  async step(sender: UploadSender, limits: UploadLimits): Promise<StepResult> {
    const ring = this.target.ring;
    if (ring !== this.boundRing) {
      // A new ring (first step, or a reconfigure replaced it): old sequence numbers mean nothing here.
      this.boundRing = ring;
      this.narrowBudget = 0;
      this.narrowUntilSeq = 0;
      this.clearSuspects();
    }
    const started = limits.now();
    const budget = Math.min(limits.budgetBytes, this.sizeCap);
    let readBudget = Math.max(1, Math.floor((budget / this.ratio) * 0.95));
    if (this.narrowBudget > 0 && this.narrowBudget < readBudget) readBudget = this.narrowBudget;
    // On slow hardware, read no more than can be encoded within the stall limit.
    if (this.storedBytesPerMs > 0) {
      readBudget = Math.min(
        readBudget,
        Math.max(1, Math.floor(this.storedBytesPerMs * limits.maxStallMs * 0.8)),
      );
    }
    // With suspects, the request carries the records after them (the evidence that they alone are bad).
    const after = this.suspects > 0 ? this.suspectLastSeq : undefined;
    let chunk = ring.read(readBudget, after);
    if (chunk === null) return this.suspects > 0 ? { kind: "waiting" } : { kind: "empty" };

    const room = sender.sendFramed ? FRAME_ROOM : 0;
    const cut: UploadLimits = budget === limits.budgetBytes ? limits : { ...limits, budgetBytes: budget };
    let encoded = this.encode(chunk, cut, room, started + limits.maxStallMs);
    if (encoded.kept === 0) return { kind: "waiting" };
    if (encoded.kept < chunk.records.length) {
      const again = ring.read(encoded.keptStoredBytes, after);
      // A store that is not greedy would hand back a different prefix: encode what it returned.
      if (again === null) return { kind: "empty" };
      if (again.records.length !== encoded.kept || again.bytes !== encoded.keptStoredBytes) {
        encoded = this.encode(
          again,
          { ...limits, budgetBytes: Number.POSITIVE_INFINITY },
          room,
          Number.POSITIVE_INFINITY,
        );
        // Never commit past a record that is not in the request: wait for the next round instead.
        if (encoded.kept !== again.records.length) {
          this.log.warn(
            `sync ${this.target.key}: the store returned a different chunk on re-read; retrying later`,
          );
          return { kind: "waiting" };
        }
      }
      chunk = again;
    }
    if (encoded.storedBytes > 0) {
      const measured = encoded.sensorBytes / encoded.storedBytes;
      this.ratio = Math.min(RATIO_MAX, Math.max(RATIO_MIN, measured));
      const elapsed = limits.now() - started;
      // A clock that did not move (fake clocks, very fast hosts) tells nothing: keep the last rate.
      if (elapsed > 0) this.storedBytesPerMs = encoded.storedBytes / elapsed;
    }

    if (encoded.sent === 0) {
      // Everything in this chunk was set aside locally: move past it without a request.
      ring.commit(chunk.lastSeq);
      this.noteSetAside(encoded.undecodable, encoded.oversized);
      this.settleSuspects();
      this.endNarrowingAt(chunk.lastSeq);
      return { kind: "advanced", records: encoded.kept };
    }

    const body = this.writer.finish();
    try {
      if (room > 0) await sender.sendFramed!(body);
      else await sender.send(body);
    } catch (error) {
      this.counters.failures++;
      const failure = classifyFailure(error);
      if (failure.kind === "transient") {
        const connection = isConnectionFailure(error);
        throw new StepFailure(failure, connection);
      }
      return this.onRefused(ring, chunk, encoded, failure);
    }
    // Replaced while the request was out: the cloud has these readings, but the chunk's
    // sequence numbers belong to the old ring; the replacement is not touched.
    const stale = this.target.ring !== ring;
    // Counted once committed: a commit that throws (flash gone) leaves them pending, not synced.
    if (!stale) ring.commit(chunk.lastSeq);
    this.counters.synced += encoded.readings;
    this.counters.requests++;
    this.counters.bytesSent += body.length - room;
    if (stale) {
      this.log.warn(`sync ${this.target.key}: ring replaced during the upload; nothing committed`);
      return { kind: "stale" };
    }
    this.noteSetAside(encoded.undecodable, encoded.oversized);
    this.settleSuspects();
    // Past the rejected region, full budget again; inside it, widen gradually.
    if (this.narrowBudget > 0) {
      if (chunk.lastSeq >= this.narrowUntilSeq) this.narrowBudget = 0;
      else this.narrowBudget *= 2;
    }
    return { kind: "advanced", records: encoded.kept };
  }

  private onRefused(ring: Ring, chunk: ReadChunk, encoded: Encoded, failure: Failure): StepResult {
    const key = this.target.key;
    if (this.target.ring !== ring) {
      // The chunk came from a ring a reconfigure replaced: its verdict says nothing about the new one.
      this.log.warn(
        `sync ${key}: ring replaced during the upload; its refusal (${failure.reason}) is ignored`,
      );
      return { kind: "stale" };
    }
    const sent = encoded.sent;
    if (sent > 1) {
      if (failure.kind === "too-large") {
        const cap = Math.max(1, Math.floor(encoded.sensorBytes / 2));
        if (cap < this.sizeCap) this.sizeCap = cap;
        this.log.warn(
          `sync ${key}: cloud refused a request of ${sent} records as too large (${failure.reason}); requests now carry at most ${this.sizeCap} bytes of readings`,
        );
        return { kind: "narrowed" };
      }
      let half = 0;
      const n = Math.ceil(encoded.kept / 2);
      for (let i = 0; i < n; i++) half += chunk.records[i]!.length;
      this.narrowBudget = half;
      if (chunk.lastSeq > this.narrowUntilSeq) this.narrowUntilSeq = chunk.lastSeq;
      this.log.warn(
        `sync ${key}: cloud rejected ${encoded.kept} records (${failure.reason}); retrying the first ${n} alone`,
      );
      return { kind: "narrowed" };
    }
    // One record refused: a suspect until the cloud accepts the records after it.
    if (this.suspects === 0) this.suspectFirstSeq = chunk.firstSeq;
    this.suspects++;
    this.suspectLastSeq = chunk.lastSeq;
    if (failure.kind === "too-large") this.suspectTooLarge += encoded.readings;
    else this.suspectRejected += encoded.readings;
    this.suspectUndecodable += encoded.undecodable;
    this.suspectOversized += encoded.oversized;
    this.suspectReason = failure.reason;
    if (this.suspects >= MAX_SUSPECTS) {
      const from = this.suspectFirstSeq;
      this.clearSuspects();
      this.narrowBudget = 0;
      this.counters.rejectedAll++;
      this.log.error(
        `sync ${key}: cloud refused ${MAX_SUSPECTS} records in a row (seq ${from}-${chunk.lastSeq}) and accepted nothing (${failure.reason}): rejecting everything? nothing set aside; backing off`,
      );
      throw new StepFailure(failure, false, true);
    }
    this.log.warn(
      `sync ${key}: record seq ${chunk.lastSeq} refused alone (${failure.reason}); set aside only if the cloud accepts the records after it`,
    );
    return { kind: "narrowed" };
  }

  /** The request after the suspects was acknowledged: they alone were bad, and are now committed past. */
  private settleSuspects(): void {
    if (this.suspects === 0) return;
    const key = this.target.key;
    const readings = this.suspectRejected + this.suspectTooLarge;
    this.counters.rejected += this.suspectRejected;
    this.counters.tooLarge += this.suspectTooLarge;
    this.noteSetAside(this.suspectUndecodable, this.suspectOversized);
    const seqs =
      this.suspectFirstSeq === this.suspectLastSeq
        ? `record seq ${this.suspectLastSeq}`
        : `records seq ${this.suspectFirstSeq}-${this.suspectLastSeq}`;
    this.log.error(
      `sync ${key}: ${seqs} set aside (${readings} reading(s)): cloud refused them (${this.suspectReason}) and accepted the records after them`,
    );
    this.clearSuspects();
  }

  private clearSuspects(): void {
    this.suspects = 0;
    this.suspectFirstSeq = 0;
    this.suspectLastSeq = 0;
    this.suspectRejected = 0;
    this.suspectTooLarge = 0;
    this.suspectUndecodable = 0;
    this.suspectOversized = 0;
    this.suspectReason = "";
  }

  private endNarrowingAt(lastSeq: number): void {
    if (this.narrowBudget > 0 && lastSeq >= this.narrowUntilSeq) this.narrowBudget = 0;
  }

  private noteSetAside(undecodable: number, oversized: number): void {
    if (undecodable > 0) {
      this.counters.undecodable += undecodable;
      this.log.error(`sync ${this.target.key}: ${undecodable} reading(s) set aside: record not decodable`);
    }
    if (oversized > 0) {
      this.counters.oversized += oversized;
      this.log.error(
        `sync ${this.target.key}: ${oversized} reading(s) set aside: record larger than one request alone (maxRequestBytes, or the request buffer of upload_budget_kb)`,
      );
    }
  }

  /**
   * Encode a request from the chunk's leading records within the limits.
   * `kept` records are covered by this request's commit (sent, or set aside
   * as undecodable/oversized); the rest stay for the next step.
   */
  private encode(chunk: ReadChunk, limits: UploadLimits, room: number, deadline: number): Encoded {
    const w = this.writer;
    const target = this.target;
    const records = chunk.records;
    w.reset();
    for (let i = 0; i < room; i++) w.raw(ZERO_BYTE);
    w.bytes(REQUEST_METADATA, target.metadata());
    const headerEnd = w.pos;
    let kept = 0;
    let keptStoredBytes = 0;
    let sent = 0;
    let readings = 0;
    let storedBytes = 0;
    let undecodable = 0;
    let oversized = 0;
    let waiting = false;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const before = w.pos;
      let n: number;
      w.overflowed = false;
      try {
        n = target.writeSensorContents(record, w);
        if (n < 0) {
          // Not placeable on the wall clock yet: this record and everything after it wait.
          w.pos = before;
          waiting = true;
          break;
        }
      } catch {
        w.pos = before;
        if (w.overflowed) {
          // The fixed request buffer is full: this record goes in the next request,
          // or, if it cannot fit even alone, it is set aside as oversized.
          if (sent > 0) break;
          oversized += this.readingsIn(record);
          kept++;
          keptStoredBytes += record.length;
          continue;
        }
        undecodable += this.readingsIn(record);
        kept++;
        keptStoredBytes += record.length;
        continue;
      }
      if (w.pos - room > limits.maxRequestBytes) {
        w.pos = before;
        if (sent > 0) break;
        // Too large even alone (or with only set-aside records before it): never sendable.
        oversized += n;
        kept++;
        keptStoredBytes += record.length;
        continue;
      }
      if (w.pos - headerEnd > limits.budgetBytes && sent > 0) {
        w.pos = before;
        break;
      }
      sent++;
      readings += n;
      kept++;
      keptStoredBytes += record.length;
      storedBytes += record.length;
      // The sampler waits while this loop runs: close the request once the stall limit is reached.
      if (limits.now() > deadline) break;
    }
    return {
      kept,
      keptStoredBytes,
      sent,
      readings,
      storedBytes,
      sensorBytes: w.pos - headerEnd,
      undecodable,
      oversized,
      waiting,
    };
  }

  private readingsIn(record: Uint8Array): number {
    try {
      const n = this.target.countReadings(record);
      return Math.max(n, 1);
    } catch {
      return 1;
    }
  }
}

interface Encoded {
  /** Records covered by this request's commit (sent or set aside). */
  kept: number;
  keptStoredBytes: number;
  /** Records sent. */
  sent: number;
  /** Readings sent. */
  readings: number;
  storedBytes: number;
  sensorBytes: number;
  undecodable: number;
  oversized: number;
  /** Encoding stopped at a record whose times cannot be placed yet. */
  waiting: boolean;
}

function isConnectionFailure(error: unknown): boolean {
  if (error && typeof error === "object") {
    if ((error as { transport?: unknown }).transport) return true;
    if ((error as { name?: unknown }).name === "TransportError") return true;
  }
  return false;
}
