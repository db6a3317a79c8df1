/*
 * What sync needs to know about one collector: its ring, the UploadMetadata
 * the cloud files its readings under, and how a stored record becomes the
 * SensorData the cloud receives. Capture owns the record format, so it
 * supplies the transcoder; sync never looks inside a record.
 */
import type { ProtoWriter } from "../proto/writer";
import type { Ring } from "../storage/types";

export interface SyncTarget {
  /** The ring key (collector identity), e.g. "rdk:component:sensor/temp/Readings". */
  readonly key: string;
  readonly ring: Ring;
  /**
   * The encoded UploadMetadata message (no tag, no length) for this
   * collector's requests. Called once per request, so it may change when the
   * config does (tags); cache the bytes, it is on the upload path.
   */
  metadata(): Uint8Array;
  /**
   * Append the fields of one SensorData message (no tag, no length) for a
   * stored record to `writer`. Throws if the record cannot be decoded: the
   * uploader then sets that record aside, counted and logged.
   */
  writeSensorData(record: Uint8Array, writer: ProtoWriter): void;
  /**
   * False while this target's records cannot be uploaded correctly yet (for
   * instance timestamps that wait for a valid wall clock). Optional; absent
   * means always ready.
   */
  ready?(): boolean;
}

/** Sends one encoded DataCaptureUploadRequest; resolves on the cloud's acknowledgement, rejects with RpcError/TransportError. */
export interface UploadSender {
  send(request: Uint8Array): Promise<void>;
}
