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

import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUES, ProtoReader } from "./reader";
import { type JsonObject, readStructFields, writeStructFields, writeValueKind } from "./struct";
import { readTimestampMs, writeTimestamp } from "./timestamp";
import { longerThan, type ProtoWriter, utf8Length, WIRE_LEN, writeUtf8 } from "./writer";

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

/** Distinct keys whose encodings a StructWriter keeps (a collector uses a handful). */
export const STRUCT_WRITER_KEY_CACHE = 64;

/** Longest cached key: a number entry (2 + key + 11 bytes) must keep a one-byte length. */
const MAX_CACHED_KEY_BYTES = 113;

/**
 * Writes Struct entries key by key into a ProtoWriter that is positioned
 * inside a Struct (e.g. after `beginSensorData`). Open-object marks live in a
 * preallocated Int32Array and each key's encoding is cached after first use,
 * so a reading costs no allocation and no per-character work: under XS,
 * strings are UTF-8 inside and `charCodeAt` walks them, while copying cached
 * bytes is one native call.
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
  private readonly keys = new Map<string, Uint8Array>();

  constructor(w: ProtoWriter) {
    this.w = w;
  }

  /** The key as a complete Struct-entry key field ([0x0a, length, UTF-8…]), cached; undefined if too long to cache. */
  private keyField(key: string): Uint8Array | undefined {
    let field = this.keys.get(key);
    if (field === undefined) {
      // Asked per reading once the cache is full or for a long key: no `.length` (a wrapper on XS).
      if (this.keys.size >= STRUCT_WRITER_KEY_CACHE || longerThan(key, MAX_CACHED_KEY_BYTES))
        return undefined;
      const n = utf8Length(key);
      if (n > MAX_CACHED_KEY_BYTES) return undefined;
      field = new Uint8Array(2 + n);
      field[0] = 0x0a;
      field[1] = n;
      writeUtf8(key, field, 2);
      this.keys.set(key, field);
    }
    return field;
  }

  /** Open entry `key` → Value → struct_value; writes that follow go into the nested object. */
  beginObject(key: string): void {
    if (this.depth >= STRUCT_WRITER_MAX_DEPTH) throw new RangeError("StructWriter nested too deep");
    const w = this.w;
    const marks = this.marks;
    const base = this.depth * 3;
    const field = this.keyField(key);
    if (field === undefined) {
      marks[base] = w.begin(1);
      w.string(1, key);
      marks[base + 1] = w.begin(2);
      marks[base + 2] = w.begin(5);
    } else {
      // Three one-byte length placeholders, filled in by endObject.
      const buf = w.reserve(field.length + 6);
      let pos = w.pos;
      buf[pos] = 0x0a;
      pos += 2;
      marks[base] = pos;
      buf.set(field, pos);
      pos += field.length;
      buf[pos] = 0x12;
      pos += 2;
      marks[base + 1] = pos;
      buf[pos] = 0x2a;
      pos += 2;
      marks[base + 2] = pos;
      w.pos = pos;
    }
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

  /** Entry `key` with a number value: [0x0a len [key field] [0x12 0x09 [0x11 double]]]. */
  number(key: string, value: number): void {
    const w = this.w;
    const field = this.keyField(key);
    if (field === undefined) {
      this.entry(key, value);
      return;
    }
    const entryLength = field.length + 11;
    const buf = w.reserve(entryLength + 2);
    let pos = w.pos;
    buf[pos] = 0x0a;
    buf[pos + 1] = entryLength;
    buf.set(field, pos + 2);
    pos += 2 + field.length;
    buf[pos] = 0x12;
    buf[pos + 1] = 0x09;
    buf[pos + 2] = 0x11;
    w.dataView.setFloat64(pos + 3, value, true);
    w.pos = pos + 11;
  }

  string(key: string, value: string): void {
    this.entry(key, value);
  }

  bool(key: string, value: boolean): void {
    const field = this.keyField(key);
    if (field === undefined) {
      this.entry(key, value);
      return;
    }
    const w = this.w;
    const buf = w.reserve(field.length + 6);
    let pos = w.pos;
    buf[pos] = 0x0a;
    buf[pos + 1] = field.length + 4;
    buf.set(field, pos + 2);
    pos += 2 + field.length;
    buf[pos] = 0x12;
    buf[pos + 1] = 0x02;
    buf[pos + 2] = 0x20;
    buf[pos + 3] = value ? 1 : 0;
    w.pos = pos + 4;
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
    const field = this.keyField(key);
    if (field === undefined) w.string(1, key);
    else w.raw(field);
    const v = w.begin(2);
    writeValueKind(w, value);
    w.end(v);
    w.end(m);
  }
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
export function decodeSensorData(
  bytes: Uint8Array,
  maxDepth = DEFAULT_MAX_DEPTH,
  maxValues = DEFAULT_MAX_VALUES,
): DecodedSensorData {
  const r = new ProtoReader(bytes, maxDepth, maxValues);
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
