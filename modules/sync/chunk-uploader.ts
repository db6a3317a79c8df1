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
 * - A chunk the cloud rejects (INVALID_ARGUMENT, OUT_OF_RANGE) is bisected:
 *   its first half is retried on its own, and so on until the culprit is a
 *   single record, which is set aside as "rejected". Good neighbours are
 *   delivered; the ring keeps draining.
 * - Set-aside records are committed past (their flash space is reused) and
 *   counted per collector; every set-aside is logged with its reason.
 *
 * The ring contract gives a chunk's last sequence number but not each
 * record's, so when the encoded request is cut short the ring is read again
 * with exactly the kept records' byte count: `read` is greedy, so that returns
 * the same prefix and its true `lastSeq`. The wire/flash size ratio is learned
 * so the first read usually fits and the second read is rare.
 */

import type { Logger } from "../ports";
import type { ProtoWriter } from "../proto/writer";
import type { ReadChunk } from "../storage/types";
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
  /** Failed upload attempts of this collector's chunks (any kind). */
  failures: number;
}

export type StepResult =
  /** Nothing after the sync point. */
  | { kind: "empty" }
  /** The sync point moved past `records` records (sent and/or set aside). */
  | { kind: "advanced"; records: number }
  /** The cloud rejected a multi-record chunk; a smaller one is tried next. */
  | { kind: "narrowed" }
  /** The next record cannot be uploaded yet (its times wait for a valid wall clock). */
  | { kind: "waiting" };

/** A transient failure of one step; the chunk stays pending. */
export class StepFailure extends Error {
  readonly failure: Failure;
  /** True when the failure happened below gRPC (no answer from the cloud). */
  readonly connection: boolean;
  constructor(failure: Failure, connection: boolean) {
    super(failure.reason);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "StepFailure" });
    this.failure = failure;
    this.connection = connection;
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

/** Counters of a collector that has not uploaded anything yet. */
export function zeroSyncCounters(): TargetSyncCounters {
  return { synced: 0, requests: 0, bytesSent: 0, rejected: 0, undecodable: 0, oversized: 0, failures: 0 };
}

export class ChunkUploader {
  target: SyncTarget;
  readonly counters: TargetSyncCounters = zeroSyncCounters();
  /**
   * Learned SensorData bytes per stored byte. Starts at 1: too generous a
   * first read only costs one re-read, too stingy a one would send a small request.
   */
  private ratio = 1;
  /** While > 0: the cloud rejected a chunk ending at `narrowUntilSeq`; read at most this many stored bytes. */
  private narrowBudget = 0;
  private narrowUntilSeq = 0;
  /** Measured read + encode throughput (stored bytes per ms); 0 until measured. */
  private storedBytesPerMs = 0;

  constructor(
    target: SyncTarget,
    private readonly writer: ProtoWriter,
    private readonly log: Logger,
  ) {
    this.target = target;
  }

  /** Upload (or set aside) the next chunk. Throws StepFailure on a transient failure. */
  async step(sender: UploadSender, limits: UploadLimits): Promise<StepResult> {
    const ring = this.target.ring;
    const started = limits.now();
    let readBudget =
      this.narrowBudget > 0
        ? this.narrowBudget
        : Math.max(1, Math.floor((limits.budgetBytes / this.ratio) * 0.95));
    // On slow hardware, read no more than can be encoded within the stall limit.
    if (this.storedBytesPerMs > 0) {
      readBudget = Math.min(
        readBudget,
        Math.max(1, Math.floor(this.storedBytesPerMs * limits.maxStallMs * 0.8)),
      );
    }
    let chunk = ring.read(readBudget);
    if (chunk === null) return { kind: "empty" };

    const room = sender.sendFramed ? FRAME_ROOM : 0;
    let encoded = this.encode(chunk, limits, room, started + limits.maxStallMs);
    if (encoded.kept === 0) return { kind: "waiting" };
    if (encoded.kept < chunk.records.length) {
      const again = ring.read(encoded.keptStoredBytes);
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
      this.target.ring.commit(chunk.lastSeq);
      this.noteSetAside(encoded);
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
      return this.onRejected(chunk, encoded, failure);
    }
    ring.commit(chunk.lastSeq);
    this.counters.synced += encoded.readings;
    this.counters.requests++;
    this.counters.bytesSent += body.length - room;
    this.noteSetAside(encoded);
    // Past the rejected region, full budget again; inside it, widen gradually.
    if (this.narrowBudget > 0) {
      if (chunk.lastSeq >= this.narrowUntilSeq) this.narrowBudget = 0;
      else this.narrowBudget *= 2;
    }
    return { kind: "advanced", records: encoded.kept };
  }

  private onRejected(chunk: ReadChunk, encoded: Encoded, failure: Failure): StepResult {
    const kept = encoded.kept;
    if (encoded.sent > 1) {
      let half = 0;
      const n = Math.ceil(kept / 2);
      for (let i = 0; i < n; i++) half += chunk.records[i]!.length;
      this.narrowBudget = half;
      if (chunk.lastSeq > this.narrowUntilSeq) this.narrowUntilSeq = chunk.lastSeq;
      this.log.warn(
        `sync ${this.target.key}: cloud rejected ${kept} records (${failure.reason}); retrying the first ${n} alone`,
      );
      return { kind: "narrowed" };
    }
    this.target.ring.commit(chunk.lastSeq);
    this.counters.rejected += encoded.readings;
    this.noteSetAside(encoded);
    this.log.error(
      `sync ${this.target.key}: record seq ${chunk.lastSeq} set aside: cloud rejected it (${failure.reason})`,
    );
    this.endNarrowingAt(chunk.lastSeq);
    return { kind: "advanced", records: kept };
  }

  private endNarrowingAt(lastSeq: number): void {
    if (this.narrowBudget > 0 && lastSeq >= this.narrowUntilSeq) this.narrowBudget = 0;
  }

  private noteSetAside(encoded: Encoded): void {
    if (encoded.undecodable > 0) {
      this.counters.undecodable += encoded.undecodable;
      this.log.error(
        `sync ${this.target.key}: ${encoded.undecodable} reading(s) set aside: record not decodable`,
      );
    }
    if (encoded.oversized > 0) {
      this.counters.oversized += encoded.oversized;
      this.log.error(
        `sync ${this.target.key}: ${encoded.oversized} reading(s) set aside: record larger than one request alone (maxRequestBytes, or the request buffer of upload_budget_kb)`,
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
