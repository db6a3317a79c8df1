/*
 * viam.app.datasync.v1.SensorData, written straight into a ProtoWriter:
 *
 *   SensorData     { SensorMetadata metadata = 1; oneof data { Struct struct = 2; bytes binary = 3; } }
 *   SensorMetadata { Timestamp time_requested = 1; Timestamp time_received = 2; MimeType mime_type = 3; }
 *
 * Two ways in. `encodeSensorData` takes a plain payload object (config-time
 * and test use). The capture hot path instead uses `beginSensorData` /
 * `StructWriter` / `endSensorData` to transcode a compact record field by
 * field with no intermediate object: no allocation per reading once the
 * writer's buffer has grown to its working size.
 */

import { DEFAULT_MAX_DEPTH, ProtoReader } from "./reader";
import { type JsonObject, readStructFields, writeStructFields, writeValueKind } from "./struct";
import { readTimestampMs, writeTimestamp } from "./timestamp";
import { type ProtoWriter, WIRE_LEN } from "./writer";

export const SENSOR_DATA_METADATA = 1;
export const SENSOR_DATA_STRUCT = 2;
export const SENSOR_DATA_BINARY = 3;

/** Write SensorData.metadata (field 1) with both timestamps. */
export function writeSensorMetadata(w: ProtoWriter, timeRequestedMs: number, timeReceivedMs: number): void {
  const mark = w.begin(SENSOR_DATA_METADATA);
  writeTimestamp(w, 1, timeRequestedMs);
  writeTimestamp(w, 2, timeReceivedMs);
  w.end(mark);
}

/**
 * Append one complete SensorData message (no tag, no length: the bytes sync
 * stores and later frames with `encodeUploadRequest`) for a plain payload such
 * as `{ readings: { temp: 21.5 } }`. Returns the byte range written.
 */
export function encodeSensorData(
  w: ProtoWriter,
  timeRequestedMs: number,
  timeReceivedMs: number,
  payload: object,
): Uint8Array {
  const start = w.pos;
  writeSensorMetadata(w, timeRequestedMs, timeReceivedMs);
  const mark = w.begin(SENSOR_DATA_STRUCT);
  writeStructFields(w, payload);
  w.end(mark);
  return w.finish().subarray(start);
}

/**
 * Start a SensorData with a Struct payload at the writer's position; fill the
 * payload with `StructWriter` (or `writeStructFields`), then `endSensorData(w, mark)`.
 */
export function beginSensorData(w: ProtoWriter, timeRequestedMs: number, timeReceivedMs: number): number {
  writeSensorMetadata(w, timeRequestedMs, timeReceivedMs);
  return w.begin(SENSOR_DATA_STRUCT);
}

export function endSensorData(w: ProtoWriter, mark: number): void {
  w.end(mark);
}

/** How deep `StructWriter.beginObject` may nest (payloads are 1–3 levels deep in practice). */
export const STRUCT_WRITER_MAX_DEPTH = 16;

/**
 * Writes Struct entries key by key into a ProtoWriter that is positioned
 * inside a Struct (e.g. after `beginSensorData`). Keeps its open-object marks
 * in a preallocated Int32Array, so a reading costs no allocation.
 *
 *   const sw = new StructWriter(w);            // once
 *   const m = beginSensorData(w, t0, t1);
 *   sw.beginObject("readings"); sw.number("temp", 21.5); sw.endObject();
 *   endSensorData(w, m);
 */
export class StructWriter {
  readonly w: ProtoWriter;
  private readonly marks = new Int32Array(STRUCT_WRITER_MAX_DEPTH * 3);
  private depth = 0;

  constructor(w: ProtoWriter) {
    this.w = w;
  }

  /** Open entry `key` → Value → struct_value; writes that follow go into the nested object. */
  beginObject(key: string): void {
    if (this.depth >= STRUCT_WRITER_MAX_DEPTH) throw new RangeError("StructWriter nested too deep");
    const w = this.w;
    const base = this.depth * 3;
    this.marks[base] = w.begin(1);
    w.string(1, key);
    this.marks[base + 1] = w.begin(2);
    this.marks[base + 2] = w.begin(5);
    this.depth++;
  }

  endObject(): void {
    if (this.depth === 0) throw new RangeError("StructWriter.endObject without beginObject");
    this.depth--;
    const base = this.depth * 3;
    const w = this.w;
    w.end(this.marks[base + 2]!);
    w.end(this.marks[base + 1]!);
    w.end(this.marks[base]!);
  }

  /**
   * Entry `key` with a number value. The entry's sizes are known up front
   * (key + 9-byte double), so no begin/end gap is reserved or closed.
   */
  number(key: string, value: number): void {
    const w = this.w;
    const keyLength = asciiLength(key);
    if (keyLength < 0) {
      const m = w.begin(1);
      w.string(1, key);
      const v = w.begin(2);
      w.double(2, value);
      w.end(v);
      w.end(m);
      return;
    }
    // entry = [0x0a keyLen key] [0x12 0x09 [0x11 double]]
    w.tag(1, 2);
    w.varint(1 + (keyLength < 0x80 ? 1 : 2) + keyLength + 11);
    w.string(1, key);
    w.tag(2, 2);
    w.varint(9);
    w.double(2, value);
  }

  string(key: string, value: string): void {
    this.entry(key, value);
  }

  bool(key: string, value: boolean): void {
    this.entry(key, value);
  }

  null(key: string): void {
    this.entry(key, null);
  }

  /** Entry `key` with any plain JS value (arrays, nested objects). */
  value(key: string, value: unknown): void {
    this.entry(key, value);
  }

  private entry(key: string, value: unknown): void {
    const w = this.w;
    const m = w.begin(1);
    w.string(1, key);
    const v = w.begin(2);
    writeValueKind(w, value);
    w.end(v);
    w.end(m);
  }
}

/** Length of an ASCII string in bytes, or -1 if it is not ASCII or too long for the precomputed path. */
function asciiLength(key: string): number {
  const n = key.length;
  if (n >= 0x3fff - 16) return -1;
  for (let i = 0; i < n; i++) if (key.charCodeAt(i) > 0x7f) return -1;
  return n;
}

export interface DecodedSensorData {
  /** Epoch ms; undefined when the metadata or the timestamp is absent. */
  timeRequestedMs: number | undefined;
  timeReceivedMs: number | undefined;
  struct: JsonObject | undefined;
  binary: Uint8Array | undefined;
}

/**
 * Decode one SensorData (tools, tests, and checking what capture stored);
 * bounded like every decoder here. Per the oneof, the last of struct/binary wins.
 */
export function decodeSensorData(bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): DecodedSensorData {
  const r = new ProtoReader(bytes, maxDepth);
  const out: DecodedSensorData = {
    timeRequestedMs: undefined,
    timeReceivedMs: undefined,
    struct: undefined,
    binary: undefined,
  };
  while (r.more()) {
    const f = r.tag();
    if (f === SENSOR_DATA_METADATA) {
      r.expect(WIRE_LEN);
      const outer = r.enter();
      while (r.more()) {
        const g = r.tag();
        if (g === 1 || g === 2) {
          r.expect(WIRE_LEN);
          const inner = r.enter();
          const ms = readTimestampMs(r);
          r.leave(inner);
          if (g === 1) out.timeRequestedMs = ms;
          else out.timeReceivedMs = ms;
        } else r.skip();
      }
      r.leave(outer);
    } else if (f === SENSOR_DATA_STRUCT) {
      r.expect(WIRE_LEN);
      const outer = r.enter();
      out.struct = readStructFields(r);
      out.binary = undefined;
      r.leave(outer);
    } else if (f === SENSOR_DATA_BINARY) {
      r.expect(WIRE_LEN);
      out.binary = r.bytes();
      out.struct = undefined;
    } else r.skip();
  }
  return out;
}
