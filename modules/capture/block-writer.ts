/*
 * A collector's RAM batch: readings encoded in place into one preallocated
 * block (format in FORMAT.md). Nothing here allocates per reading: buffers,
 * the schema arrays and the DataViews are made once per collector.
 *
 * Fixed-shape methods append straight into the block. Readings maps are first
 * written to a scratch area while their keys are checked against the block's
 * schema; only a reading whose keys differ from the block's (rare: a sensor
 * that changed its fields) starts a new block with a new schema.
 */

import { encodeUtf8 } from "../proto/writer";
import {
  ANY_FALSE,
  ANY_LIST,
  ANY_NULL,
  ANY_NUMBER,
  ANY_OBJECT,
  ANY_STRING,
  ANY_TRUE,
  BLOCK_FIXED_HEADER,
  BLOCK_MAGIC,
  FIELD_ANY,
  FIELD_BOOL,
  FIELD_END,
  FIELD_NULL,
  FIELD_NUMBER,
  FIELD_OBJECT,
  FIELD_STRING,
  FLAG_WALL_BASE,
  MAX_BLOCK_READINGS,
  MAX_DEPTH,
  MAX_SCHEMA_ENTRIES,
  OFFSET_COUNT,
  OFFSET_SPAN_MS,
} from "./block-format";
import type { FieldWriter } from "./component";
import { KIND_GPIO, KIND_READINGS } from "./methods";

/** Why the last Readings reading was refused (the collector counts it as a sensor error). */
export const READING_OK = 0;
export const READING_NOT_FINITE = 1;
export const READING_TOO_MANY_FIELDS = 2;
export const READING_TOO_LARGE = 3;
export const READING_BAD_NESTING = 4;
export const READING_BAD_VALUE = 5;

export const READING_ERROR_TEXT = [
  "ok",
  "a value is NaN or infinite",
  `more than ${MAX_SCHEMA_ENTRIES} fields`,
  "the reading is larger than the batch (batch_bytes)",
  "beginObject/endObject do not match",
  "a value is not JSON-like (or nests too deep)",
];

const TWO_32 = 4294967296;
const EMPTY = new Uint8Array(0);

/** A name's UTF-8 bytes (schema changes only: allocates). */
function utf8Bytes(value: string): Uint8Array {
  const tmp = new Uint8Array(value.length * 3);
  return tmp.slice(0, encodeUtf8(value, tmp, 0, tmp.length));
}

/** Worst-case bytes of one reading's time fields (two varints). */
const TIME_BYTES = 20;

export class BlockWriter implements FieldWriter {
  readonly kind: number;
  readonly capacity: number;
  /** The block; `ends[0]` is its length once `seal()`ed (shape of the store's RecordBatch). */
  readonly bytes: Uint8Array;
  readonly ends = new Uint32Array(1);
  count = 0;
  /** Monotonic ms of the first reading in the block (for the flush interval). */
  firstMonotonicMs = 0;
  wallBase = false;

  private readonly view: DataView;
  private pos = 0;
  private baseUs = 0;
  private prevUs = 0;

  // Readings schema of the current block.
  private readonly kinds = new Uint8Array(MAX_SCHEMA_ENTRIES);
  private readonly names: string[] = new Array<string>(MAX_SCHEMA_ENTRIES).fill("");
  /** UTF-8 of each name, made when the schema changes, so starting a block allocates nothing. */
  private readonly nameBytes: Uint8Array[] = new Array<Uint8Array>(MAX_SCHEMA_ENTRIES).fill(EMPTY);
  private schemaLength = 0;
  // The reading being written (Readings only).
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;
  private spos = 0;
  private cursor = 0;
  private learning = false;
  private readonly newKinds = new Uint8Array(MAX_SCHEMA_ENTRIES);
  private readonly newNames: string[] = new Array<string>(MAX_SCHEMA_ENTRIES).fill("");
  private newLength = 0;
  private depth = 0;
  /** READING_* code of the reading being written. */
  problem = READING_OK;
  /** The field the problem was found in (for the log). */
  problemField = "";

  constructor(kind: number, capacityBytes: number) {
    this.kind = kind;
    this.capacity = capacityBytes;
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
    this.scratch = new Uint8Array(kind === KIND_READINGS ? capacityBytes : 0);
    this.scratchView = new DataView(this.scratch.buffer);
  }

  /** Bytes used so far. */
  get length(): number {
    return this.pos;
  }

  /** Patch the count and span into the header; the block is then `bytes[0 .. ends[0])`. */
  seal(): void {
    this.view.setUint16(OFFSET_COUNT, this.count, true);
    const spanMs = Math.ceil((this.prevUs - this.baseUs) / 1000);
    this.view.setUint32(OFFSET_SPAN_MS, spanMs > 0xffffffff ? 0xffffffff : spanMs < 0 ? 0 : spanMs, true);
    this.ends[0] = this.pos;
  }

  /** Forget the block's readings (after they went to the store). The Readings schema is kept. */
  clear(): void {
    this.pos = 0;
    this.count = 0;
  }

  /**
   * Room for one fixed-shape reading in the current block with this time base?
   * false: seal and hand the block to the store first (or it is empty and the
   * reading can never fit, which `appendFixed`'s caller checks with `count`).
   */
  fitsFixed(wallBase: boolean, arity: number): boolean {
    if (this.count === 0) return true;
    if (wallBase !== this.wallBase || this.count >= MAX_BLOCK_READINGS) return false;
    return this.pos + TIME_BYTES + arity * 8 <= this.capacity;
  }

  /** Append a fixed-shape reading. Caller checked `fitsFixed`. Returns false if it cannot fit even alone. */
  appendFixed(
    wallBase: boolean,
    bootId: number,
    requestedUs: number,
    receivedUs: number,
    monotonicMs: number,
    values: Float64Array,
    arity: number,
  ): boolean {
    if (this.count === 0) {
      this.start(wallBase, bootId, requestedUs, monotonicMs, 0);
      if (this.pos + TIME_BYTES + arity * 8 > this.capacity) {
        this.pos = 0;
        return false;
      }
    }
    this.times(requestedUs, receivedUs);
    if (this.kind === KIND_GPIO) this.bytes[this.pos++] = values[0] ? 1 : 0;
    else {
      const view = this.view;
      let pos = this.pos;
      for (let i = 0; i < arity; i++) {
        view.setFloat64(pos, values[i]!, true);
        pos += 8;
      }
      this.pos = pos;
    }
    this.count++;
    return true;
  }

  // ---- Readings: write into scratch, then commit -------------------------------------------

  /** Start a Readings reading: the sensor's FieldWriter calls follow. */
  beginReading(): void {
    this.spos = 0;
    this.cursor = 0;
    this.learning = false;
    this.newLength = 0;
    this.depth = 0;
    this.problem = READING_OK;
  }

  /** Finish the Readings reading. Returns READING_OK or the problem found (nothing is stored then). */
  endReading(): number {
    if (this.problem !== READING_OK) return this.problem;
    if (this.depth !== 0) return this.fail(READING_BAD_NESTING, "");
    if (!this.learning && this.cursor !== this.schemaLength) this.learning = true;
    return READING_OK;
  }

  /** Does the finished reading need a new block (its keys differ from this block's)? */
  get schemaChanged(): boolean {
    return this.learning;
  }

  /** Room for the finished Readings reading in the current block with this time base? */
  fitsReading(wallBase: boolean): boolean {
    if (this.count === 0) return true;
    if (this.learning || wallBase !== this.wallBase || this.count >= MAX_BLOCK_READINGS) return false;
    return this.pos + TIME_BYTES + this.spos <= this.capacity;
  }

  /** Store the finished Readings reading. Caller checked `fitsReading`. false: it cannot fit even alone. */
  commitReading(
    wallBase: boolean,
    bootId: number,
    requestedUs: number,
    receivedUs: number,
    monotonicMs: number,
  ): boolean {
    if (this.learning) {
      // New schema = the matched prefix + what this reading wrote after it.
      const kinds = this.kinds;
      const names = this.names;
      let n = this.cursor;
      for (let i = 0; i < this.newLength; i++) {
        kinds[n] = this.newKinds[i]!;
        names[n] = this.newNames[i]!;
        this.nameBytes[n] = utf8Bytes(this.newNames[i]!);
        n++;
      }
      for (let i = n; i < this.schemaLength; i++) {
        names[i] = "";
        this.nameBytes[i] = EMPTY;
      }
      this.schemaLength = n;
      this.learning = false;
    }
    if (this.count === 0) {
      this.start(wallBase, bootId, requestedUs, monotonicMs, this.schemaLength);
      if (this.pos + TIME_BYTES + this.spos > this.capacity) {
        this.pos = 0;
        return false;
      }
    }
    this.times(requestedUs, receivedUs);
    // A byte loop, not set(subarray()): a subarray is an object per reading.
    const bytes = this.bytes;
    const scratch = this.scratch;
    const n = this.spos;
    let pos = this.pos;
    for (let i = 0; i < n; i++) bytes[pos++] = scratch[i]!;
    this.pos = pos;
    this.count++;
    return true;
  }

  // FieldWriter

  number(name: string, value: number): void {
    if (!this.entry(FIELD_NUMBER, name)) return;
    if (value - value !== 0) {
      this.fail(READING_NOT_FINITE, name);
      return;
    }
    if (!this.room(8)) return;
    this.scratchView.setFloat64(this.spos, value, true);
    this.spos += 8;
  }

  bool(name: string, value: boolean): void {
    if (!this.entry(FIELD_BOOL, name) || !this.room(1)) return;
    this.scratch[this.spos++] = value ? 1 : 0;
  }

  string(name: string, value: string): void {
    if (!this.entry(FIELD_STRING, name)) return;
    this.text(value);
  }

  null(name: string): void {
    this.entry(FIELD_NULL, name);
  }

  beginObject(name: string): void {
    if (!this.entry(FIELD_OBJECT, name)) return;
    if (++this.depth > MAX_DEPTH) this.fail(READING_BAD_VALUE, name);
  }

  endObject(): void {
    if (this.depth === 0) {
      this.fail(READING_BAD_NESTING, "");
      return;
    }
    this.depth--;
    this.entry(FIELD_END, "");
  }

  value(name: string, value: unknown): void {
    switch (typeof value) {
      case "number":
        this.number(name, value);
        return;
      case "boolean":
        this.bool(name, value);
        return;
      case "string":
        this.string(name, value);
        return;
      case "undefined":
      case "function":
      case "symbol":
        return; // left out, as JSON.stringify does
      case "object":
        if (value === null) this.null(name);
        else if (Array.isArray(value)) {
          if (this.entry(FIELD_ANY, name)) this.any(value, 0);
        } else {
          this.beginObject(name);
          const record = value as Record<string, unknown>;
          for (const key in record) if (Object.hasOwn(record, key)) this.value(key, record[key]);
          this.endObject();
        }
        return;
      default:
        this.fail(READING_BAD_VALUE, name);
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private fail(problem: number, field: string): number {
    if (this.problem === READING_OK) {
      this.problem = problem;
      this.problemField = field;
    }
    return problem;
  }

  /** Check (or learn) the next schema entry. false: the reading already failed. */
  private entry(kind: number, name: string): boolean {
    if (this.problem !== READING_OK) return false;
    if (!this.learning) {
      const c = this.cursor;
      if (c < this.schemaLength && this.kinds[c] === kind && this.names[c] === name) {
        this.cursor = c + 1;
        return true;
      }
      this.learning = true;
    }
    if (this.cursor + this.newLength >= MAX_SCHEMA_ENTRIES) {
      this.fail(READING_TOO_MANY_FIELDS, name);
      return false;
    }
    this.newKinds[this.newLength] = kind;
    this.newNames[this.newLength] = name;
    this.newLength++;
    return true;
  }

  private room(bytes: number): boolean {
    if (this.spos + bytes <= this.scratch.length) return true;
    this.fail(READING_TOO_LARGE, "");
    return false;
  }

  private text(value: string): void {
    // One length byte reserved: most strings are < 128 bytes; longer ones shift once.
    const start = this.spos;
    let pos = encodeUtf8(value, this.scratch, start + 1, this.scratch.length);
    if (pos < 0) {
      this.fail(READING_TOO_LARGE, "");
      return;
    }
    const length = pos - start - 1;
    if (length >= 0x80) {
      let prefix = 1;
      for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) prefix++;
      if (pos + prefix - 1 > this.scratch.length) {
        this.fail(READING_TOO_LARGE, "");
        return;
      }
      this.scratch.copyWithin(start + prefix, start + 1, pos);
      pos += prefix - 1;
    }
    putVarint(this.scratch, start, length);
    this.spos = pos;
  }

  private any(value: unknown, depth: number): void {
    if (this.problem !== READING_OK) return;
    if (depth > MAX_DEPTH) {
      this.fail(READING_BAD_VALUE, "");
      return;
    }
    if (!this.room(1)) return;
    const s = this.scratch;
    switch (typeof value) {
      case "number":
        if (value - value !== 0) {
          this.fail(READING_NOT_FINITE, "");
          return;
        }
        if (!this.room(9)) return;
        s[this.spos++] = ANY_NUMBER;
        this.scratchView.setFloat64(this.spos, value, true);
        this.spos += 8;
        return;
      case "boolean":
        s[this.spos++] = value ? ANY_TRUE : ANY_FALSE;
        return;
      case "string":
        s[this.spos++] = ANY_STRING;
        this.text(value);
        return;
      case "object": {
        if (value === null) {
          s[this.spos++] = ANY_NULL;
          return;
        }
        if (Array.isArray(value)) {
          if (!this.room(6)) return;
          s[this.spos++] = ANY_LIST;
          this.spos = putVarint(s, this.spos, value.length);
          // JSON turns undefined/functions inside arrays into null.
          for (let i = 0; i < value.length; i++) this.any(skippable(value[i]) ? null : value[i], depth + 1);
          return;
        }
        const record = value as Record<string, unknown>;
        let n = 0;
        for (const key in record) if (Object.hasOwn(record, key) && !skippable(record[key])) n++;
        if (!this.room(6)) return;
        s[this.spos++] = ANY_OBJECT;
        this.spos = putVarint(s, this.spos, n);
        for (const key in record) {
          if (!Object.hasOwn(record, key) || skippable(record[key])) continue;
          this.text(key);
          this.any(record[key], depth + 1);
        }
        return;
      }
      default:
        this.fail(READING_BAD_VALUE, "");
    }
  }

  private start(
    wallBase: boolean,
    bootId: number,
    baseUs: number,
    monotonicMs: number,
    schema: number,
  ): void {
    const b = this.bytes;
    b[0] = BLOCK_MAGIC;
    b[1] = this.kind;
    b[2] = wallBase ? FLAG_WALL_BASE : 0;
    b[3] = b[4] = b[5] = b[6] = b[7] = b[8] = 0;
    let pos = putVarint(b, BLOCK_FIXED_HEADER, bootId);
    pos = putVarint(b, pos, baseUs);
    if (this.kind === KIND_READINGS) {
      pos = putVarint(b, pos, schema);
      for (let i = 0; i < schema; i++) {
        const kind = this.kinds[i]!;
        const name = this.nameBytes[i]!;
        // A huge name could overflow a tiny batch; the caller's fit check catches pos > capacity.
        if (pos + 6 + name.length > this.capacity) {
          pos = this.capacity + 1;
          break;
        }
        b[pos++] = kind;
        if (kind !== FIELD_END) {
          pos = putVarint(b, pos, name.length);
          b.set(name, pos);
          pos += name.length;
        }
      }
    }
    this.pos = pos;
    this.wallBase = wallBase;
    this.baseUs = baseUs;
    this.prevUs = baseUs;
    this.firstMonotonicMs = monotonicMs;
  }

  private times(requestedUs: number, receivedUs: number): void {
    const delta = requestedUs - this.prevUs;
    // zigzag: the wall clock may step backwards between two readings
    const zigzag = delta >= 0 ? delta * 2 : -delta * 2 - 1;
    const latency = receivedUs > requestedUs ? receivedUs - requestedUs : 0;
    const b = this.bytes;
    let pos = this.pos;
    // Inline the common sizes (a call costs more than the encoding on XS).
    if (zigzag < 0x80) b[pos++] = zigzag;
    else if (zigzag < 0x4000) {
      b[pos++] = (zigzag & 0x7f) | 0x80;
      b[pos++] = zigzag >>> 7;
    } else pos = putVarint(b, pos, zigzag);
    if (latency < 0x80) b[pos++] = latency;
    else pos = putVarint(b, pos, latency);
    this.pos = pos;
    this.prevUs = requestedUs;
  }
}

function skippable(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** Unsigned varint of a safe integer ≥ 0 at `pos`; returns the position after it. */
export function putVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value >= TWO_32 ? value % 0x80 : value & 0x7f) | 0x80;
    value = value >= TWO_32 ? Math.floor(value / 0x80) : value >>> 7;
  }
  buf[pos++] = value;
  return pos;
}
