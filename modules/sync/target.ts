/*
 * What sync needs to know about one collector: its ring, the UploadMetadata
 * the cloud files its readings under, and how a stored record becomes the
 * SensorData the cloud receives. Capture owns the record format (a record
 * may be a block of readings), so it supplies the transcoder; sync never
 * looks inside a record.
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
   * Append every reading of one stored record to `writer` as complete
   * `sensor_contents` fields (tag 2, length, SensorData), in capture order;
   * returns how many it wrote. A record may hold one reading or a block of
   * them. Returns a negative number (writing nothing) when the record cannot
   * be uploaded correctly yet (its times wait for a valid wall clock): the
   * ring then waits at that record. Throws if the record cannot be decoded:
   * the uploader rolls the writer back and sets the record aside, counted and logged.
   */
  writeSensorContents(record: Uint8Array, writer: ProtoWriter): number;
  /** Readings in a stored record without decoding it (for counting records that are set aside); 1 if unknown. */
  countReadings(record: Uint8Array): number;
  /**
   * False while this target's records cannot be uploaded correctly yet (for
   * instance timestamps that wait for a valid wall clock). Optional; absent
   * means always ready.
   */
  ready?(): boolean;
}

/** Bytes of room before the request for the gRPC-web frame header (`sendFramed`). */
export const FRAME_ROOM = 5;

/** Sends one encoded DataCaptureUploadRequest; resolves on the cloud's acknowledgement, rejects with RpcError/TransportError. */
export interface UploadSender {
  send(request: Uint8Array): Promise<void>;
  /**
   * Optional zero-copy form: `frame` is FRAME_ROOM bytes the sender may
   * overwrite (its frame header), then the request. Saves a second
   * request-sized buffer on the device.
   */
  sendFramed?(frame: Uint8Array): Promise<void>;
}
