/*
 * viam.app.datasync.v1.DataCaptureUploadRequest, assembled from SensorData
 * messages that are already encoded (as capture stored them), without decoding
 * them again:
 *
 *   DataCaptureUploadRequest { UploadMetadata metadata = 1; repeated SensorData sensor_contents = 2; }
 *   UploadMetadata { string part_id = 1; string component_type = 2; string component_name = 3;
 *                    string method_name = 5; DataType type = 6; repeated string tags = 10; … }
 *
 * Sync budgets requests by size before building them: `uploadRequestSize`
 * (or `uploadMetadataFieldSize` + Σ `sensorDataFieldSize`) gives the exact
 * byte count `encodeUploadRequest` will produce, at the cost of a few adds.
 */

import { varintSize } from "./timestamp";
import { type ProtoWriter, utf8Length } from "./writer";

export const DATA_TYPE_UNSPECIFIED = 0;
export const DATA_TYPE_BINARY_SENSOR = 1;
export const DATA_TYPE_TABULAR_SENSOR = 2;
export const DATA_TYPE_FILE = 3;

export interface UploadMetadata {
  partId: string;
  /** e.g. "rdk:component:sensor" */
  componentType: string;
  componentName: string;
  /** UpperCamelCase, e.g. "Readings" */
  methodName: string;
  /** DATA_TYPE_TABULAR_SENSOR for Struct readings. */
  type: number;
  tags?: readonly string[];
}

function stringFieldSize(value: string): number {
  if (value.length === 0) return 0;
  const n = utf8Length(value);
  return 1 + varintSize(n) + n;
}

/** Bytes of the UploadMetadata message body. */
export function uploadMetadataSize(meta: UploadMetadata): number {
  let n =
    stringFieldSize(meta.partId) +
    stringFieldSize(meta.componentType) +
    stringFieldSize(meta.componentName) +
    stringFieldSize(meta.methodName);
  if (meta.type !== 0) n += 1 + varintSize(meta.type);
  const tags = meta.tags;
  if (tags) {
    for (let i = 0; i < tags.length; i++) {
      const t = utf8Length(tags[i]!);
      n += 1 + varintSize(t) + t;
    }
  }
  return n;
}

/** Bytes the request's metadata field (tag + length + body) takes. */
export function uploadMetadataFieldSize(meta: UploadMetadata): number {
  const body = uploadMetadataSize(meta);
  return 1 + varintSize(body) + body;
}

/** Bytes one SensorData of `byteLength` bytes adds to a request (tag + length prefix + body). */
export function sensorDataFieldSize(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

/** Exact size of the request `encodeUploadRequest` would build (without gRPC framing). */
export function uploadRequestSize(meta: UploadMetadata, sensorData: readonly Uint8Array[]): number {
  let n = uploadMetadataFieldSize(meta);
  for (let i = 0; i < sensorData.length; i++) n += sensorDataFieldSize(sensorData[i]!.length);
  return n;
}

/** Write UploadMetadata's fields (the message body) in field-number order, as protobuf-es does. */
export function writeUploadMetadataFields(w: ProtoWriter, meta: UploadMetadata): void {
  if (meta.partId.length > 0) w.string(1, meta.partId);
  if (meta.componentType.length > 0) w.string(2, meta.componentType);
  if (meta.componentName.length > 0) w.string(3, meta.componentName);
  if (meta.methodName.length > 0) w.string(5, meta.methodName);
  if (meta.type !== 0) w.uint(6, meta.type);
  const tags = meta.tags;
  if (tags) for (let i = 0; i < tags.length; i++) w.string(10, tags[i]!);
}

/**
 * Append a DataCaptureUploadRequest to `w` (after `headerRoom` zero bytes,
 * e.g. 5 to leave room for the gRPC-web frame header that the RPC client
 * fills in without copying). Each element of `sensorData` is one complete
 * encoded SensorData, copied in as is. Returns the bytes written, including
 * the header room (a view into `w`, valid until its next reset).
 */
export function encodeUploadRequest(
  w: ProtoWriter,
  meta: UploadMetadata,
  sensorData: readonly Uint8Array[],
  headerRoom = 0,
): Uint8Array {
  const start = w.pos;
  beginUploadRequest(w, meta, headerRoom);
  for (let i = 0; i < sensorData.length; i++) w.bytes(2, sensorData[i]!);
  return w.finish().subarray(start);
}

/**
 * Streaming form of `encodeUploadRequest` for callers that read SensorData
 * one at a time (e.g. straight out of flash): header room + metadata now,
 * then `appendSensorData` per message. The result is the writer's bytes from
 * where this started.
 */
export function beginUploadRequest(w: ProtoWriter, meta: UploadMetadata, headerRoom = 0): void {
  for (let i = 0; i < headerRoom; i++) w.raw(ZERO);
  w.tag(1, 2);
  w.varint(uploadMetadataSize(meta));
  writeUploadMetadataFields(w, meta);
}

/** Append one encoded SensorData as `sensor_contents` (field 2). */
export function appendSensorData(w: ProtoWriter, sensorData: Uint8Array): void {
  w.bytes(2, sensorData);
}

const ZERO = new Uint8Array(1);

/** gRPC-web frame header room kept before a request built in place. */
export const REQUEST_FRAME_ROOM = 5;

/**
 * Largest request body (SensorData bytes) a device request buffer may hold:
 * the buffer is one fixed allocation in the XS chunk pool (72 KB on a
 * no-PSRAM ESP32, shared with TLS, batches and the config), so it is bounded.
 * upload_budget_kb may not exceed it.
 */
export const MAX_REQUEST_BUDGET_BYTES = 32 * 1024;

/**
 * Bytes of the one request buffer sync allocates: frame header room, the
 * metadata field (largest of the collectors' UploadMetadata bodies) and room
 * for `sensorBytes` of SensorData (clamped to 1..MAX_REQUEST_BUDGET_BYTES).
 * A record that would cross the end is rolled back and waits for the next
 * request; one that cannot fit even alone is set aside (counted, logged).
 */
export function requestBufferBytes(sensorBytes: number, metadataBytes: number): number {
  const room = Math.min(MAX_REQUEST_BUDGET_BYTES, Math.max(1, Math.floor(sensorBytes) || 1));
  const meta = Math.max(0, Math.floor(metadataBytes) || 0);
  return REQUEST_FRAME_ROOM + 1 + varintSize(meta) + meta + room;
}

/** The UploadMetadata message body on its own (what sync caches per collector); a view into `w`. */
export function encodeUploadMetadata(w: ProtoWriter, meta: UploadMetadata): Uint8Array {
  const start = w.pos;
  writeUploadMetadataFields(w, meta);
  return w.finish().subarray(start);
}
