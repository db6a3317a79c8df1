/*
 * Block (one ring record, FORMAT.md) → SensorData messages, written straight
 * into the caller's ProtoWriter: no intermediate objects.
 *
 *   SensorData     { SensorMetadata metadata = 1; Struct struct = 2; }
 *   SensorMetadata { Timestamp time_requested = 1; Timestamp time_received = 2; }
 *   Timestamp      { int64 seconds = 1; int32 nanos = 2; }
 *   Struct         { map<string, Value> fields = 1; }  entry { key = 1; value = 2; }
 *   Value          { null_value = 1; number_value = 2; string_value = 3; bool_value = 4;
 *                    struct_value = 5; list_value = 6; }   ListValue { repeated Value values = 1; }
 *
 * Fields are written in the order protobuf-es writes them, zero Timestamp
 * fields left out, so the output is byte-identical to protobuf-es's
 * `toBinary(SensorDataSchema, …)` for the same reading (host-tests check it).
 */
import { ProtoWriter, WIRE_LEN } from "../proto/writer";
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
  BLOCK_MAGIC_V2,
  BLOCK_MAGIC_V3,
  ESCAPE_LENGTH_BITS,
  FIELD_ANY,
  FIELD_BOOL,
  FIELD_END,
  FIELD_NULL,
  FIELD_NUMBER,
  FIELD_OBJECT,
  FIELD_STRING,
  FLAG_BASE_MS,
  FLAG_STEP_MS,
  FLAG_WALL_BASE,
  MAX_DEPTH,
  MAX_SCHEMA_ENTRIES,
  MAX_TIME_WIDTH,
  MAX_WIDTH,
  MODE_DIVIDE,
  MODE_MAX_DECIMALS,
  MODE_MULTIPLY,
  MODE_RAW,
  NAME_DICTIONARY,
  OFFSET_COUNT,
  OFFSET_FLAGS,
  OFFSET_KIND,
  OFFSET_SPAN_MS,
} from "./block-format";
import { ONES, POW10, putVarint } from "./block-writer";
import {
  KIND_ANALOG,
  KIND_ANGULAR_VELOCITY,
  KIND_COMPASS_HEADING,
  KIND_GEO_POSITION,
  KIND_GPIO,
  KIND_LINEAR_ACCELERATION,
  KIND_LINEAR_VELOCITY,
  KIND_MAX,
  KIND_MOTOR_POSITION,
  KIND_READINGS,
  KIND_SERVO_POSITION,
  KIND_TICKS,
  kindArity,
} from "./methods";

/** 2^k for k ≤ 32, exact: placing a byte above bit 31 needs multiplication, not a shift. */
const POW2: readonly number[] = Array.from({ length: 33 }, (_, k) => 2 ** k);

/** Maps a block's (boot id, last monotonic µs) to the µs to add to its monotonic times; NaN = not yet known. */
export interface BootOffsets {
  offsetUs(bootId: number, lastMonotonicUs: number): number;
}

/** `writeSensorData` result when the block's times cannot be placed on the wall clock yet. */
export const TIMES_NOT_KNOWN_YET = -1;

export class BlockFormatError extends Error {
  constructor(message: string) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "BlockFormatError" });
  }
}

/** Payload keys as UTF-8, made once (on XS, encoding a string per reading would allocate). */
const NO_BYTES = new Uint8Array(0);
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const KEY_READINGS = ascii("readings");
const KEY_ANGULAR_VELOCITY = ascii("angular_velocity");
const KEY_LINEAR_ACCELERATION = ascii("linear_acceleration");
const KEY_LINEAR_VELOCITY = ascii("linear_velocity");
const KEY_COORDINATE = ascii("coordinate");
const KEY_LATITUDE = ascii("latitude");
const KEY_LONGITUDE = ascii("longitude");
const KEY_ALTITUDE = ascii("altitude_m");
const KEY_X = ascii("x");
const KEY_Y = ascii("y");
const KEY_Z = ascii("z");
const KEY_VALUE = ascii("value");
const KEY_HIGH = ascii("high");
const KEY_TICKS = ascii("ticks");
const KEY_POSITION = ascii("position");
const KEY_POSITION_DEG = ascii("position_deg");

/** The format-2 name dictionary as UTF-8 (ASCII), made once. */
const DICTIONARY_BYTES: readonly Uint8Array[] = NAME_DICTIONARY.map(ascii);
const TWO_32 = 4294967296;
/** Nanos (ns) whose varint takes k bytes: [NANOS_LO[k], NANOS_HI[k]); 5 bytes end at the second's end. */
const NANOS_LO = [0, 1, 0x80, 0x4000, 0x200000, 0x10000000];
const NANOS_HI = [0, 0x80, 0x4000, 0x200000, 0x10000000, 1e9];

/** Scratch slot for a payload's outer entry marks (after the Readings nesting slots). */
const OUTER = MAX_DEPTH * 3;

/** Readings in a block, from its header (no decoding). Throws BlockFormatError for a block capsync did not write. */
export function readingCount(record: Uint8Array): number {
  checkHeader(record);
  return record[OFFSET_COUNT]! | (record[OFFSET_COUNT + 1]! << 8);
}

/** `readingCount` of the block at b[start, end), read in place (the store's census and read paths: no subarray). */
export function readingCountIn(b: Uint8Array, start: number, end: number): number {
  const magic = end - start < BLOCK_FIXED_HEADER + 2 ? 0 : b[start];
  if (magic !== BLOCK_MAGIC && magic !== BLOCK_MAGIC_V2 && magic !== BLOCK_MAGIC_V3) {
    throw new BlockFormatError("not a capsync capture block (bad magic or too short)");
  }
  const kind = b[start + OFFSET_KIND]!;
  if (kind < 1 || kind > KIND_MAX) throw new BlockFormatError(`unknown method kind ${kind} in block`);
  return b[start + OFFSET_COUNT]! | (b[start + OFFSET_COUNT + 1]! << 8);
}

/** Time facts of a block from its header: boot id, base kind, and the last reading's monotonic/wall ms. */
export function blockTimes(record: Uint8Array): { bootId: number; wallBase: boolean; lastMs: number } {
  checkHeader(record);
  let pos = BLOCK_FIXED_HEADER;
  const read = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= record.length) throw new BlockFormatError("block header is truncated");
      const b = record[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new BlockFormatError("varint longer than 8 bytes");
  };
  const bootId = read();
  const base = read();
  const baseUs =
    record[0] !== BLOCK_MAGIC && (record[OFFSET_FLAGS]! & FLAG_BASE_MS) !== 0 ? base * 1000 : base;
  const span =
    record[OFFSET_SPAN_MS]! | (record[OFFSET_SPAN_MS + 1]! << 8) | (record[OFFSET_SPAN_MS + 2]! << 16);
  const spanMs = span + record[OFFSET_SPAN_MS + 3]! * 0x1000000;
  return {
    bootId,
    wallBase: (record[OFFSET_FLAGS]! & FLAG_WALL_BASE) !== 0,
    lastMs: baseUs / 1000 + spanMs,
  };
}

/** Method kind of a block (KIND_*). */
export function blockKind(record: Uint8Array): number {
  checkHeader(record);
  return record[OFFSET_KIND]!;
}

function sameBytes(known: Uint8Array, b: Uint8Array, at: number, length: number): boolean {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known[i] !== b[at + i]) return false;
  return true;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

function checkHeader(record: Uint8Array): void {
  const magic = record.length < BLOCK_FIXED_HEADER + 2 ? 0 : record[0];
  if (magic !== BLOCK_MAGIC && magic !== BLOCK_MAGIC_V2 && magic !== BLOCK_MAGIC_V3) {
    throw new BlockFormatError("not a capsync capture block (bad magic or too short)");
  }
  const kind = record[OFFSET_KIND]!;
  if (kind < 1 || kind > KIND_MAX) throw new BlockFormatError(`unknown method kind ${kind} in block`);
}

/**
 * Reads blocks and writes SensorData. One instance per user (it keeps a small
 * preallocated schema and a DataView it re-points per record).
 */
export class SensorDataTranscoder {
  private readonly offsets: BootOffsets;
  private record: Uint8Array = NO_BYTES;
  /** Doubles are copied here to be read: a DataView per record would be an allocation per block. */
  private readonly eight = new Uint8Array(8);
  private readonly eightView = new DataView(this.eight.buffer);
  private pos = 0;
  private readonly kinds = new Uint8Array(MAX_SCHEMA_ENTRIES);
  /** Field names as UTF-8 (copied once per block, written per reading without re-encoding). */
  private readonly names: Uint8Array[] = new Array<Uint8Array>(MAX_SCHEMA_ENTRIES).fill(NO_BYTES);
  private schemaLength = 0;
  private readonly marks = new Int32Array(MAX_DEPTH * 3 + 3);
  // Format 2: the bit stream (whole bytes up to `pos` consumed, `avail` bits left in `cur`) and the columns.
  private v2 = false;
  /** Format 3: raw doubles start on a whole byte. */
  private aligned = false;
  private cur = 0;
  private avail = 0;
  private column = 0;
  private readonly mode = new Uint8Array(MAX_SCHEMA_ENTRIES);
  private readonly width = new Uint8Array(MAX_SCHEMA_ENTRIES);
  private readonly factor = new Float64Array(MAX_SCHEMA_ENTRIES);
  private readonly prevCode = new Float64Array(MAX_SCHEMA_ENTRIES);
  /** Per fixed-shape kind: its Struct with zero values, and where each value sits (3 slots per kind). */
  private readonly templates: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(KIND_MAX + 1);
  private readonly templateAt = new Int32Array((KIND_MAX + 1) * 3);
  /** Bumped whenever readSchema reads a schema unlike the one before (or fails half way). */
  private schemaVersion = 0;
  /** The Readings template (numbers-only schemas) and the schema version it was made for. */
  private readingsTemplateFor = -1;
  private readingsTemplateBytes: Uint8Array = NO_BYTES;
  /** Where each number sits in the Readings template. */
  private readonly readingsAt = new Int32Array(MAX_SCHEMA_ENTRIES);
  /**
   * The last templated SensorData in the writer (start, end; lastAt −1: none, reset per block) and its
   * layout: whether its time_received equalled time_requested, its second and nanos varint size, and
   * where its nanos and its Struct sit. A reading of the same layout right after it is a copy + patches.
   */
  private lastAt = -1;
  private lastEnd = -1;
  /** Layout key of the last templated reading (second × 8 + nanos varint size; −1: not a model). */
  private lastLayout = -1;
  private nanosOffset = 0;
  private receivedNanosOffset = 0;
  private templateOffset = 0;
  /** A DataView of the record being transcoded, made when its first format-3 raw double is copied. */
  private recordView: DataView | undefined = undefined;
  /** The varint of `second` (at most 8 bytes). */
  private readonly secondBytes = new Uint8Array(10);
  /** The second (since the epoch) of the latest templated time_requested, its start in µs and varint size. */
  private second = 0;
  private secondStartUs = Number.NaN;
  private secondSize = 1;
  /** Values per reading of the block being transcoded (fixed-shape kinds). */
  private arity = 0;
  /** steadyRun's second result: the time_requested (µs, before the boot offset) of its last reading. */
  private runPreviousUs = 0;

  constructor(offsets: BootOffsets) {
    this.offsets = offsets;
  }

  /**
   * Append every reading of `record` to `w` as a length-delimited SensorData
   * field number `field` (2 = DataCaptureUploadRequest.sensor_contents).
   * Returns the number of readings written, or TIMES_NOT_KNOWN_YET (nothing
   * written) when the block's monotonic times cannot be placed on the wall
   * clock yet: retry once the wall clock is valid. Throws BlockFormatError for
   * a malformed block, leaving `w.pos` where it was.
   */
  writeSensorData(record: Uint8Array, w: ProtoWriter, field: number): number {
    checkHeader(record);
    const kind = record[OFFSET_KIND]!;
    const wallBase = (record[OFFSET_FLAGS]! & FLAG_WALL_BASE) !== 0;
    const count = record[OFFSET_COUNT]! | (record[OFFSET_COUNT + 1]! << 8);
    this.record = record;
    this.pos = BLOCK_FIXED_HEADER;
    // Format 3 is format 2 with raw doubles on whole bytes.
    const v2 = record[0] !== BLOCK_MAGIC;
    this.v2 = v2;
    this.aligned = record[0] === BLOCK_MAGIC_V3;
    this.cur = 0;
    this.avail = 0;
    const flags = record[OFFSET_FLAGS]!;
    const bootId = this.varint();
    const base = this.varint();
    const baseUs = v2 && (flags & FLAG_BASE_MS) !== 0 ? base * 1000 : base;
    let offsetUs = 0;
    if (!wallBase) {
      const spanUs = readU32(record, OFFSET_SPAN_MS) * 1000;
      offsetUs = this.offsets.offsetUs(bootId, baseUs + spanUs);
      if (Number.isNaN(offsetUs)) return TIMES_NOT_KNOWN_YET;
    }
    const start = w.pos;
    this.lastAt = -1;
    this.lastEnd = -1;
    try {
      if (kind === KIND_READINGS) this.readSchema(v2);
      let previousUs = baseUs;
      let delta = 0;
      let widthDod = 0;
      let widthLatency = 0;
      let widthBoth = 0;
      if (v2) {
        const step = unzigzag(this.varint());
        delta = (flags & FLAG_STEP_MS) !== 0 ? step * 1000 : step;
        const widths = this.byte();
        widthDod = widths & 15;
        widthLatency = widths >> 4;
        widthBoth = widthDod + widthLatency;
        if (widthDod < 1 || widthLatency < 1 || widthDod > MAX_TIME_WIDTH) {
          throw new BlockFormatError("bad time widths");
        }
        this.readColumns(kind);
      }
      // Format 2 fixed-shape kinds: the Struct is the same bytes for every reading but its doubles.
      // Format 2/3: the Struct is the same bytes for every reading of the block but its numbers (fixed-shape
      // kinds; Readings maps whose fields are all numbers).
      const readings = kind === KIND_READINGS;
      const template = !v2 ? NO_BYTES : readings ? this.readingsTemplate() : this.template(kind);
      this.arity = kind === KIND_GPIO ? 1 : readings ? this.schemaLength : kindArity(kind);
      this.recordView = undefined;
      // Format 3 fixed shapes (and numbers-only Readings): runs of steady readings go through steadyRun.
      const runs = this.aligned && template !== NO_BYTES && kind !== KIND_GPIO;
      for (let i = 0; i < count; i++) {
        if (runs && i > 0 && this.lastLayout >= 0 && w.pos === this.lastEnd) {
          i = this.steadyRun(w, count, i, previousUs, delta, widthBoth, offsetUs, kind);
          previousUs = this.runPreviousUs;
          if (i === count) break;
        }
        let requestedUs: number;
        let receivedUs: number;
        if (v2) {
          const avail = this.avail;
          if (i > 0 && widthBoth <= avail && (this.cur & ONES[widthBoth]!) === 0) {
            // A steady rate and an instant read (the writer's common case): two zero fields.
            this.cur >>>= widthBoth;
            this.avail = avail - widthBoth;
            requestedUs = previousUs + delta;
            receivedUs = requestedUs;
          } else if (
            i > 0 &&
            widthBoth <= avail + 8 &&
            this.pos < record.length &&
            ((this.cur | (record[this.pos]! << avail)) & ONES[widthBoth]!) === 0
          ) {
            // The same, the two fields running into the next byte.
            this.cur = record[this.pos++]! >>> (widthBoth - avail);
            this.avail = avail + 8 - widthBoth;
            requestedUs = previousUs + delta;
            receivedUs = requestedUs;
          } else {
            if (i > 0) {
              const z = this.bits(widthDod);
              delta += z === ONES[widthDod] ? unzigzag(this.long()) : z % 2 === 0 ? z / 2 : -(z + 1) / 2;
              requestedUs = previousUs + delta;
            } else requestedUs = baseUs;
            const latency = this.bits(widthLatency);
            receivedUs = requestedUs + (latency === ONES[widthLatency] ? this.long() : latency);
          }
        } else {
          const zigzag = this.varint();
          requestedUs = previousUs + (zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2);
          receivedUs = requestedUs + this.varint();
        }
        previousUs = requestedUs;
        if (template !== NO_BYTES) {
          this.templated(w, field, template, kind, requestedUs + offsetUs, receivedUs + offsetUs);
          continue;
        }
        this.column = 0;
        const message = w.begin(field);
        const metadata = w.begin(1);
        writeTimestampUs(w, 1, requestedUs + offsetUs);
        writeTimestampUs(w, 2, receivedUs + offsetUs);
        w.end(metadata);
        const struct = w.begin(2);
        this.payload(kind, w);
        w.end(struct);
        w.end(message);
      }
      if (this.pos !== record.length) throw new BlockFormatError("trailing bytes after the last reading");
    } catch (error) {
      w.pos = start;
      // The schema arrays may be half rewritten: never reuse a Readings template built from them.
      this.schemaVersion++;
      if (error instanceof BlockFormatError) throw error;
      throw new BlockFormatError(`truncated or malformed block: ${(error as Error)?.message ?? error}`);
    } finally {
      this.record = NO_BYTES;
    }
    return count;
  }

  /**
   * The Struct {readings: {name: number, …}} of the block's schema with zero values (SensorData field 2,
   * tag included) when every entry is a number, else NO_BYTES (the general path writes the map).
   * Made when the schema changes (consecutive blocks of a ring share theirs); `readingsAt` gets where
   * each number sits in it.
   */
  private readingsTemplate(): Uint8Array {
    if (this.readingsTemplateFor === this.schemaVersion) return this.readingsTemplateBytes;
    this.readingsTemplateFor = this.schemaVersion;
    const n = this.schemaLength;
    let numbers = n > 0;
    for (let i = 0; i < n; i++) if (this.kinds[i] !== FIELD_NUMBER) numbers = false;
    let bytes = NO_BYTES;
    if (numbers) {
      const w = new ProtoWriter(256);
      const at = this.readingsAt;
      const struct = w.begin(2);
      beginEntry(w, KEY_READINGS, this.marks, OUTER);
      for (let i = 0; i < n; i++) {
        numberEntry(w, this.names[i]!, 0);
        at[i] = w.pos - 8;
      }
      const contentEnd = w.pos;
      endEntry(w, this.marks, OUTER);
      w.end(struct);
      // Closing may widen length prefixes (before the numbers); a number's distance to the end stays.
      const end = w.pos;
      for (let i = 0; i < n; i++) at[i] = end - (contentEnd - at[i]!);
      bytes = w.finish().slice();
    }
    this.readingsTemplateBytes = bytes;
    return bytes;
  }

  /**
   * The Struct of fixed-shape kind `kind` with zero values (SensorData field
   * 2, tag included), made once per kind; `templateAt` gets where each value
   * sits in it. NO_BYTES if it would need a length prefix over one byte.
   */
  private template(kind: number): Uint8Array {
    const known = this.templates[kind];
    if (known) return known;
    const w = new ProtoWriter(256);
    const at = this.templateAt;
    let n = 0;
    const struct = w.begin(2);
    const marks = this.marks;
    switch (kind) {
      case KIND_ANGULAR_VELOCITY:
      case KIND_LINEAR_ACCELERATION:
      case KIND_LINEAR_VELOCITY:
        beginEntry(
          w,
          kind === KIND_ANGULAR_VELOCITY
            ? KEY_ANGULAR_VELOCITY
            : kind === KIND_LINEAR_ACCELERATION
              ? KEY_LINEAR_ACCELERATION
              : KEY_LINEAR_VELOCITY,
          marks,
          OUTER,
        );
        for (const key of [KEY_X, KEY_Y, KEY_Z]) {
          numberEntry(w, key, 0);
          at[kind * 3 + n++] = w.pos - 8 - struct + 2;
        }
        endEntry(w, marks, OUTER);
        break;
      case KIND_GEO_POSITION:
        beginEntry(w, KEY_COORDINATE, marks, OUTER);
        numberEntry(w, KEY_LATITUDE, 0);
        at[kind * 3] = w.pos - 8 - struct + 2;
        numberEntry(w, KEY_LONGITUDE, 0);
        at[kind * 3 + 1] = w.pos - 8 - struct + 2;
        endEntry(w, marks, OUTER);
        numberEntry(w, KEY_ALTITUDE, 0);
        at[kind * 3 + 2] = w.pos - 8 - struct + 2;
        break;
      case KIND_GPIO:
        boolEntry(w, KEY_HIGH, false);
        at[kind * 3] = w.pos - 1 - struct + 2;
        break;
      default:
        numberEntry(
          w,
          kind === KIND_TICKS
            ? KEY_TICKS
            : kind === KIND_MOTOR_POSITION
              ? KEY_POSITION
              : kind === KIND_SERVO_POSITION
                ? KEY_POSITION_DEG
                : KEY_VALUE,
          0,
        );
        at[kind * 3] = w.pos - 8 - struct + 2;
    }
    const long = w.pos - struct >= 0x80;
    w.end(struct);
    const bytes = long ? NO_BYTES : w.finish().slice();
    this.templates[kind] = bytes;
    return bytes;
  }

  /**
   * One SensorData of a fixed-shape format-2/3 block: timestamps, then the
   * template with the values patched in. Allocation-free and call-light: the
   * seconds' varint is made once per second, a time_received equal to
   * time_requested is copied, and a format-3 raw double is copied from the
   * record to the request byte for byte (never decoded to a number).
   */
  private templated(
    w: ProtoWriter,
    field: number,
    template: Uint8Array,
    kind: number,
    requestedUs: number,
    receivedUs: number,
  ): void {
    // Timestamp{seconds = 1, nanos = 2}, zero fields left out, as protobuf-es writes it.
    const rq = requestedUs > 0 ? requestedUs : 0;
    // Readings of one second share their seconds (200 of them at 200 Hz): its varint is made once.
    if (!(rq >= this.secondStartUs && rq < this.secondStartUs + 1e6)) this.newSecond(rq);
    const rqS = this.second;
    const rqN = (rq - this.secondStartUs) * 1000;
    // Most nanos take 5 bytes (≥ 268 ms into the second): that test first.
    const rqNSize = rqN >= 0x10000000 ? 5 : rqN >= 0x200000 ? 4 : rqN >= 0x4000 ? 3 : rqN >= 0x80 ? 2 : 1;
    const slot = kind === KIND_READINGS ? 0 : kind * 3;
    // The layout of a reading whose time_received is its time_requested: its second and nanos width.
    const layout = receivedUs === requestedUs && rqN !== 0 ? rqS * 8 + rqNSize : -1;
    if (layout >= 0 && layout === this.lastLayout && w.pos === this.lastEnd) {
      // The previous reading of this block is the last thing in `w` and has the same layout: copy it
      // whole, then patch the nanos (twice: both timestamps) and the values.
      const from = this.lastAt;
      const size = this.lastEnd - from;
      const buf = w.reserve(size);
      const start = w.pos;
      buf.copyWithin(start, from, from + size);
      const p = start + this.nanosOffset;
      const v = rqN; // < 10^9: 32-bit operations are exact
      if (rqNSize === 5) {
        buf[p] = (v & 0x7f) | 0x80;
        buf[p + 1] = ((v >>> 7) & 0x7f) | 0x80;
        buf[p + 2] = ((v >>> 14) & 0x7f) | 0x80;
        buf[p + 3] = ((v >>> 21) & 0x7f) | 0x80;
        buf[p + 4] = v >>> 28;
      } else putVarintU32(buf, p, v);
      buf.copyWithin(start + this.receivedNanosOffset, p, p + rqNSize);
      this.writeValues(w, buf, start + this.templateOffset, kind, slot);
      this.lastAt = start;
      this.lastEnd = start + size;
      w.pos = start + size;
      return;
    }
    const rqLength = (rqS !== 0 ? 1 + this.secondSize : 0) + (rqN !== 0 ? 1 + rqNSize : 0);
    const rc = receivedUs > 0 ? receivedUs : 0;
    const same = rc === rq;
    let rcS = rqS;
    let rcN = rqN;
    let rcLength = rqLength;
    if (!same) {
      rcS = Math.floor(rc / 1e6);
      rcN = (rc - rcS * 1e6) * 1000;
      rcLength = (rcS !== 0 ? 1 + varintSize(rcS) : 0) + (rcN !== 0 ? 1 + varintSize(rcN) : 0);
    }
    const metadata = 2 + rqLength + 2 + rcLength;
    const length = 2 + metadata + template.length;
    let buf: Uint8Array;
    let pos: number;
    const start = w.pos;
    if (field < 16 && length < 0x80) {
      buf = w.reserve(length + 2);
      pos = w.pos;
      buf[pos++] = field * 8 + WIRE_LEN;
      buf[pos++] = length;
    } else {
      w.tag(field, WIRE_LEN);
      w.varint(length);
      buf = w.reserve(length);
      pos = w.pos;
    }
    buf[pos++] = 0x0a; // metadata
    buf[pos++] = metadata;
    buf[pos++] = 0x0a; // time_requested
    const rqAt = pos;
    buf[pos++] = rqLength;
    if (rqS !== 0) {
      buf[pos++] = 0x08;
      const sb = this.secondBytes;
      const n = this.secondSize;
      for (let k = 0; k < n; k++) buf[pos++] = sb[k]!;
    }
    if (rqN !== 0) {
      buf[pos++] = 0x10;
      this.nanosOffset = pos - start;
      let v = rqN; // < 10^9: 32-bit operations are exact
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    }
    buf[pos++] = 0x12; // time_received
    if (same) {
      // The same Timestamp: its length and bytes, one copy.
      this.receivedNanosOffset = this.nanosOffset + (pos - rqAt);
      buf.copyWithin(pos, rqAt, rqAt + 1 + rqLength);
      pos += 1 + rqLength;
    } else {
      buf[pos++] = rcLength;
      if (rcS !== 0) {
        buf[pos++] = 0x08;
        pos = rcS < TWO_32 ? putVarintU32(buf, pos, rcS) : putVarint(buf, pos, rcS);
      }
      if (rcN !== 0) {
        buf[pos++] = 0x10;
        pos = putVarintU32(buf, pos, rcN);
      }
    }
    buf.set(template, pos);
    this.writeValues(w, buf, pos, kind, slot);
    this.templateOffset = pos - start;
    this.lastAt = start;
    this.lastEnd = pos + template.length;
    // Only a reading whose times are one Timestamp (same, non-zero nanos) is a model for the next.
    this.lastLayout = layout;
    w.pos = pos + template.length;
  }

  /**
   * Readings i, i+1, … of a format-3 block while each is steady (both time fields zero: the previous
   * step, time_received = time_requested) and lands in the second and nanos varint size of the reading
   * before it, which is the last thing in `w` (the caller checked): each is that reading's bytes copied,
   * its two nanos and its values patched. The loop keeps the bit stream and the positions in locals and
   * makes no call but for an escaped value. Returns the first reading it did not write (the caller's
   * general path takes it); `runPreviousUs` gets the time_requested of the last one it wrote.
   */
  private steadyRun(
    w: ProtoWriter,
    count: number,
    i: number,
    previousUs: number,
    delta: number,
    widthBoth: number,
    offsetUs: number,
    kind: number,
  ): number {
    const record = this.record;
    const end = record.length;
    const mask = ONES[widthBoth]!;
    const size = this.lastEnd - this.lastAt;
    const buf = w.reserve(0);
    const view = w.dataView;
    // The run never grows the buffer: it stops where the buffer ends.
    const limit = buf.length;
    const arity = this.arity;
    const modes = this.mode;
    // The record's view, made here when a column is raw (an escape to a raw double makes it on the spot).
    let recordView = this.recordView;
    if (recordView === undefined && this.hasRawColumn()) recordView = this.rawView();
    // The nanos of the run share the last reading's varint size: [lo, hi) in ns, hi at most the second's end.
    const nanosSize = this.lastLayout % 8;
    const lo = NANOS_LO[nanosSize]!;
    const hi = NANOS_HI[nanosSize]!;
    const base = this.secondStartUs - offsetUs;
    const nanosAt = this.nanosOffset;
    const receivedAt = this.receivedNanosOffset;
    const valuesAt = this.templateOffset;
    const at = kind === KIND_READINGS ? this.readingsAt : this.templateAt;
    const slot = kind === KIND_READINGS ? 0 : kind * 3;
    const widths = this.width;
    const prev = this.prevCode;
    const factors = this.factor;
    let cur = this.cur;
    let avail = this.avail;
    let rpos = this.pos;
    let pos = w.pos;
    for (; i < count; i++) {
      // Both time fields zero? Looked at before anything is consumed: a reading that is not steady, or
      // leaves the second or the nanos size, is the general path's.
      let nextCur: number;
      let nextAvail: number;
      let nextPos = rpos;
      if (widthBoth <= avail) {
        if ((cur & mask) !== 0) break;
        nextCur = cur >>> widthBoth;
        nextAvail = avail - widthBoth;
      } else if (widthBoth <= avail + 8 && rpos < end) {
        const b = record[rpos]!;
        if (((cur | (b << avail)) & mask) !== 0) break;
        nextCur = b >>> (widthBoth - avail);
        nextAvail = avail + 8 - widthBoth;
        nextPos = rpos + 1;
      } else break;
      const us = previousUs + delta;
      const v = (us - base) * 1000; // the nanos: < 10^9, so 32-bit operations are exact
      if (!(v >= lo && v < hi) || pos + size > limit) break;
      cur = nextCur;
      avail = nextAvail;
      rpos = nextPos;
      previousUs = us;
      buf.copyWithin(pos, pos - size, pos);
      const p = pos + nanosAt;
      if (nanosSize === 5) {
        buf[p] = (v & 0x7f) | 0x80;
        buf[p + 1] = ((v >>> 7) & 0x7f) | 0x80;
        buf[p + 2] = ((v >>> 14) & 0x7f) | 0x80;
        buf[p + 3] = ((v >>> 21) & 0x7f) | 0x80;
        buf[p + 4] = v >>> 28;
      } else putVarintU32(buf, p, v);
      buf.copyWithin(pos + receivedAt, p, p + nanosSize);
      const o0 = pos + valuesAt;
      for (let c = 0; c < arity; c++) {
        const o = o0 + at[slot + c]!;
        const mode = modes[c]!;
        if (mode !== MODE_RAW) {
          const width = widths[c]!;
          let z: number;
          if (width <= avail) {
            z = cur & ONES[width]!;
            cur >>>= width;
            avail -= width;
          } else if (width <= avail + 8 && rpos < end) {
            const b = record[rpos++]!;
            z = (cur | (b << avail)) & ONES[width]!;
            cur = b >>> (width - avail);
            avail = avail + 8 - width;
          } else {
            this.cur = cur;
            this.avail = avail;
            this.pos = rpos;
            z = this.bits(width);
            cur = this.cur;
            avail = this.avail;
            rpos = this.pos;
          }
          if (z !== ONES[width]) {
            const code = prev[c]! + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
            prev[c] = code;
            view.setFloat64(o, mode === MODE_MULTIPLY ? code * factors[c]! : code / factors[c]!, true);
            continue;
          }
          // An escape: through the general readers.
          this.cur = cur;
          this.avail = avail;
          this.pos = rpos;
          const long = this.bits(1) !== 0;
          if (long) view.setFloat64(o, this.longCode(c, mode), true);
          cur = this.cur;
          avail = this.avail;
          rpos = this.pos;
          if (long) continue;
          if (recordView === undefined) recordView = this.rawView();
        }
        // A raw double: the 8 bytes on the next whole byte, read and written as one number.
        if (rpos + 8 > end) throw new BlockFormatError("block ends inside a value");
        avail = 0;
        view.setFloat64(o, recordView!.getFloat64(rpos, true), true);
        rpos += 8;
      }
      pos += size;
    }
    this.cur = cur;
    this.avail = avail;
    this.pos = rpos;
    this.lastAt = pos - size;
    this.lastEnd = pos;
    w.pos = pos;
    this.runPreviousUs = previousUs;
    return i;
  }

  /**
   * Decode the reading's values (they follow its times in the stream) straight into the Struct at `pos`
   * (template offsets of `slot`): doubles, or GPIO's bool. number(), inlined for the common cases: a code
   * in its field, a format-3 raw double (its 8 bytes copied, never turned into a number); escapes go
   * through the general readers.
   */
  private writeValues(w: ProtoWriter, buf: Uint8Array, pos: number, kind: number, slot: number): void {
    const at = kind === KIND_READINGS ? this.readingsAt : this.templateAt;
    if (kind === KIND_GPIO) {
      buf[pos + at[slot]!] = this.bits(1) !== 0 ? 1 : 0;
      return;
    }
    const view = w.dataView;
    const record = this.record;
    const arity = this.arity;
    const modes = this.mode;
    const widths = this.width;
    const prev = this.prevCode;
    const factors = this.factor;
    const aligned = this.aligned;
    for (let c = 0; c < arity; c++) {
      const o = pos + at[slot + c]!;
      const mode = modes[c]!;
      let raw = mode === MODE_RAW;
      if (!raw) {
        const width = widths[c]!;
        let z: number;
        const avail = this.avail;
        if (width <= avail) {
          // bits(width), inlined: within the current byte.
          const cur = this.cur;
          this.cur = cur >>> width;
          this.avail = avail - width;
          z = cur & ONES[width]!;
        } else if (avail === 0 && width <= 8 && this.pos < record.length) {
          // bits(width), inlined: the field starts a fresh byte (after a raw double, say).
          const cur = record[this.pos++]!;
          this.cur = cur >>> width;
          this.avail = 8 - width;
          z = cur & ONES[width]!;
        } else z = this.bits(width);
        if (z !== ONES[width]) {
          const code = prev[c]! + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
          prev[c] = code;
          view.setFloat64(o, mode === MODE_MULTIPLY ? code * factors[c]! : code / factors[c]!, true);
          continue;
        }
        if (this.bits(1) !== 0) {
          view.setFloat64(o, this.longCode(c, mode), true);
          continue;
        }
        raw = true;
      }
      if (!aligned) {
        view.setFloat64(o, this.rawDouble(), true);
        continue;
      }
      // Format 3: the 8 bytes on the next whole byte.
      const r = this.pos;
      if (r + 8 > record.length) throw new BlockFormatError("block ends inside a value");
      this.avail = 0;
      this.pos = r + 8;
      view.setFloat64(o, (this.recordView ?? this.rawView()).getFloat64(r, true), true);
    }
  }

  /** Does the block (its column descriptors, read) have a raw column? */
  private hasRawColumn(): boolean {
    for (let c = 0; c < this.arity; c++) if (this.mode[c] === MODE_RAW) return true;
    return false;
  }

  /**
   * The record's DataView for copying format-3 raw doubles, made at its first raw double: one small
   * object per record (~30 readings of a 3-axis sensor), where copying the record into the request's
   * buffer to use copyWithin cost 2 computrons a byte. A double read and written back keeps its
   * bytes: capture stores only finite numbers (−0 included), so no NaN payload is at stake.
   */
  private rawView(): DataView {
    const record = this.record;
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    this.recordView = view;
    return view;
  }

  /** The second of time_requested `rq` (µs ≥ 0) and its varint, for the readings of that second. */
  private newSecond(rq: number): void {
    const s = Math.floor(rq / 1e6);
    this.second = s;
    this.secondStartUs = s * 1e6;
    this.secondSize = putVarint(this.secondBytes, 0, s);
  }

  private payload(kind: number, w: ProtoWriter): void {
    switch (kind) {
      case KIND_READINGS: {
        beginEntry(w, KEY_READINGS, this.marks, OUTER);
        this.readingsStruct(w);
        endEntry(w, this.marks, OUTER);
        return;
      }
      case KIND_ANGULAR_VELOCITY:
      case KIND_LINEAR_ACCELERATION:
      case KIND_LINEAR_VELOCITY: {
        const key =
          kind === KIND_ANGULAR_VELOCITY
            ? KEY_ANGULAR_VELOCITY
            : kind === KIND_LINEAR_ACCELERATION
              ? KEY_LINEAR_ACCELERATION
              : KEY_LINEAR_VELOCITY;
        beginEntry(w, key, this.marks, OUTER);
        numberEntry(w, KEY_X, this.number());
        numberEntry(w, KEY_Y, this.number());
        numberEntry(w, KEY_Z, this.number());
        endEntry(w, this.marks, OUTER);
        return;
      }
      case KIND_GEO_POSITION: {
        beginEntry(w, KEY_COORDINATE, this.marks, OUTER);
        numberEntry(w, KEY_LATITUDE, this.number());
        numberEntry(w, KEY_LONGITUDE, this.number());
        endEntry(w, this.marks, OUTER);
        numberEntry(w, KEY_ALTITUDE, this.number());
        return;
      }
      case KIND_COMPASS_HEADING:
      case KIND_ANALOG:
        numberEntry(w, KEY_VALUE, this.number());
        return;
      case KIND_GPIO:
        boolEntry(w, KEY_HIGH, this.flag() !== 0);
        return;
      case KIND_TICKS:
        numberEntry(w, KEY_TICKS, this.number());
        return;
      case KIND_MOTOR_POSITION:
        numberEntry(w, KEY_POSITION, this.number());
        return;
      case KIND_SERVO_POSITION:
        numberEntry(w, KEY_POSITION_DEG, this.number());
        return;
      default:
        throw new BlockFormatError(`unknown method kind ${kind}`);
    }
  }

  /** The Readings map's entries (inside an open struct_value), walking the block's schema. */
  private readingsStruct(w: ProtoWriter): void {
    const marks = this.marks;
    let depth = 0;
    for (let i = 0; i < this.schemaLength; i++) {
      const kind = this.kinds[i]!;
      const name = this.names[i]!;
      switch (kind) {
        case FIELD_NUMBER:
          numberEntry(w, name, this.number());
          break;
        case FIELD_BOOL:
          boolEntry(w, name, this.flag() !== 0);
          break;
        case FIELD_STRING: {
          this.avail = 0; // format 2: strings start on a whole byte
          const entry = w.begin(1);
          w.bytes(1, name);
          const value = w.begin(2);
          this.rawText(w, 3);
          w.end(value);
          w.end(entry);
          break;
        }
        case FIELD_NULL:
          nullEntry(w, name);
          break;
        case FIELD_OBJECT:
          marks[depth * 3] = w.begin(1);
          w.bytes(1, name);
          marks[depth * 3 + 1] = w.begin(2);
          marks[depth * 3 + 2] = w.begin(5);
          depth++;
          break;
        case FIELD_END:
          depth--;
          w.end(marks[depth * 3 + 2]!);
          w.end(marks[depth * 3 + 1]!);
          w.end(marks[depth * 3]!);
          break;
        case FIELD_ANY: {
          this.avail = 0;
          const entry = w.begin(1);
          w.bytes(1, name);
          const value = w.begin(2);
          this.anyValue(w, 0);
          w.end(value);
          w.end(entry);
          break;
        }
      }
    }
  }

  /** Write one self-describing value's Value oneof (inside an open Value). */
  private anyValue(w: ProtoWriter, depth: number): void {
    if (depth > MAX_DEPTH) throw new BlockFormatError("value nested too deep");
    const tag = this.byte();
    switch (tag) {
      case ANY_NULL:
        w.uint(1, 0);
        return;
      case ANY_NUMBER:
        w.double(2, this.double());
        return;
      case ANY_FALSE:
      case ANY_TRUE:
        w.bool(4, tag === ANY_TRUE);
        return;
      case ANY_STRING:
        this.rawText(w, 3);
        return;
      case ANY_LIST: {
        const n = this.varint();
        const list = w.begin(6);
        for (let i = 0; i < n; i++) {
          const item = w.begin(1);
          this.anyValue(w, depth + 1);
          w.end(item);
        }
        w.end(list);
        return;
      }
      case ANY_OBJECT: {
        const n = this.varint();
        const struct = w.begin(5);
        for (let i = 0; i < n; i++) {
          const entry = w.begin(1);
          this.rawText(w, 1);
          const value = w.begin(2);
          this.anyValue(w, depth + 1);
          w.end(value);
          w.end(entry);
        }
        w.end(struct);
        return;
      }
      default:
        throw new BlockFormatError(`unknown value tag ${tag}`);
    }
  }

  private readSchema(v2: boolean): void {
    const n = this.varint();
    if (n > MAX_SCHEMA_ENTRIES) throw new BlockFormatError(`schema of ${n} entries is too long`);
    let depth = 0;
    let changed = false;
    for (let i = 0; i < n; i++) {
      let kind = this.byte();
      let index = -1;
      if (v2 && kind >= 0x80) {
        index = kind - 0x80;
        kind = FIELD_NUMBER;
      } else if (v2 && kind >= 0x40) {
        kind -= 0x40;
        index = this.byte();
      }
      if (kind < FIELD_NUMBER || kind > FIELD_ANY) throw new BlockFormatError(`unknown field kind ${kind}`);
      if (this.kinds[i] !== kind) changed = true;
      this.kinds[i] = kind;
      if (index >= 0) {
        if (index >= DICTIONARY_BYTES.length || kind === FIELD_END) {
          throw new BlockFormatError(`unknown name index ${index}`);
        }
        if (kind === FIELD_OBJECT && ++depth > MAX_DEPTH) throw new BlockFormatError("schema nests too deep");
        if (this.names[i] !== DICTIONARY_BYTES[index]) changed = true;
        this.names[i] = DICTIONARY_BYTES[index]!;
      } else if (kind === FIELD_END) {
        if (--depth < 0) throw new BlockFormatError("schema closes an object it never opened");
        if (this.names[i] !== NO_BYTES) changed = true;
        this.names[i] = NO_BYTES;
      } else {
        if (kind === FIELD_OBJECT && ++depth > MAX_DEPTH) throw new BlockFormatError("schema nests too deep");
        const length = this.varint();
        if (this.pos + length > this.record.length) throw new BlockFormatError("block ends inside a name");
        // Consecutive blocks of a ring nearly always share their schema: keep the bytes we have.
        if (!sameBytes(this.names[i]!, this.record, this.pos, length)) {
          this.names[i] = this.record.slice(this.pos, this.pos + length);
          changed = true;
        }
        this.pos += length;
      }
    }
    if (depth !== 0) throw new BlockFormatError("schema leaves an object open");
    if (changed || n !== this.schemaLength) this.schemaVersion++;
    this.schemaLength = n;
  }

  /** Format 2 column descriptors: one per number of the kind (or NUMBER field of the schema). */
  private readColumns(kind: number): void {
    let columns = 0;
    if (kind === KIND_READINGS) {
      for (let i = 0; i < this.schemaLength; i++) if (this.kinds[i] === FIELD_NUMBER) columns++;
    } else if (kind !== KIND_GPIO) columns = kindArity(kind);
    for (let c = 0; c < columns; c++) {
      const d = this.byte();
      const mode = d >> 4;
      let width = d & 15;
      this.mode[c] = mode;
      if (mode === MODE_RAW) {
        if (width !== 0) throw new BlockFormatError("raw column with a width");
        continue;
      }
      if (width === 0) width = this.byte();
      if (width < 1 || width > MAX_WIDTH) throw new BlockFormatError(`column width ${width}`);
      this.width[c] = width;
      if (mode === MODE_DIVIDE || mode === MODE_MULTIPLY) {
        const f = this.double();
        if (!(f > 0 && f < Number.POSITIVE_INFINITY)) throw new BlockFormatError("bad column step");
        this.factor[c] = f;
      } else if (mode <= MODE_MAX_DECIMALS) this.factor[c] = POW10[mode]!;
      else throw new BlockFormatError(`unknown column mode ${mode}`);
      this.prevCode[c] = unzigzag(this.varint());
    }
  }

  /** The next number of the reading: format 1 a double; format 2 its column's code (or escape). */
  private number(): number {
    if (!this.v2) return this.double();
    const c = this.column++;
    const mode = this.mode[c]!;
    if (mode === MODE_RAW) return this.rawDouble();
    const width = this.width[c]!;
    const z = this.bits(width);
    let code: number;
    if (z === ONES[width]) {
      if (this.bits(1) === 0) return this.rawDouble();
      code = this.prevCode[c]! + unzigzag(this.long());
    } else code = this.prevCode[c]! + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    this.prevCode[c] = code;
    // The same operation the writer checked the value with (block-writer.ts number1).
    return mode === MODE_MULTIPLY ? code * this.factor[c]! : code / this.factor[c]!;
  }

  /** An escaped long delta of column c: the new code's value. */
  private longCode(c: number, mode: number): number {
    const code = this.prevCode[c]! + unzigzag(this.long());
    this.prevCode[c] = code;
    return mode === MODE_MULTIPLY ? code * this.factor[c]! : code / this.factor[c]!;
  }

  /** An escape's long form: 6 bits of length n, then n bits. */
  private long(): number {
    const n = this.bits(ESCAPE_LENGTH_BITS);
    if (n > 53) throw new BlockFormatError("escaped value wider than 53 bits");
    if (n <= 32) return this.bits(n);
    const low = this.bits(32);
    return low + this.bits(n - 32) * TWO_32;
  }

  /** 64 bits as an IEEE double (low word first); format 3: from the next whole byte. */
  private rawDouble(): number {
    if (this.aligned) {
      this.avail = 0;
      return this.double();
    }
    const low = this.bits32();
    const high = this.bits32();
    this.eightView.setUint32(0, low, true);
    this.eightView.setUint32(4, high, true);
    return this.eightView.getFloat64(0, true);
  }

  /** A bool (format 2: one bit; format 1: one byte). */
  private flag(): number {
    return this.v2 ? this.bits(1) : this.byte();
  }

  /** The next 32 bits: `bits(32)` without its loop (raw doubles are two of them). */
  private bits32(): number {
    const record = this.record;
    let pos = this.pos;
    if (pos + 4 > record.length) return this.bits(32);
    const avail = this.avail;
    // `avail` bits are left in cur: four more bytes hold the rest, and the last one's top `avail` bits
    // stay over for the next read.
    const low = (this.cur | (record[pos++]! << avail) | (record[pos++]! << (avail + 8))) >>> 0;
    const b2 = record[pos++]!;
    const b3 = record[pos++]!;
    this.pos = pos;
    this.cur = b3 >>> (8 - avail);
    return low + b2 * POW2[avail + 16]! + (b3 & ((1 << (8 - avail)) - 1)) * POW2[avail + 24]!;
  }

  /** The next n ≤ 32 bits of the stream, least significant first. */
  private bits(n: number): number {
    let avail = this.avail;
    if (n <= avail) {
      // Within the current byte (most time fields, many values).
      const cur = this.cur;
      this.cur = cur >>> n;
      this.avail = avail - n;
      return cur & ((1 << n) - 1);
    }
    if (n <= avail + 8 && this.pos < this.record.length) {
      // The rest of this byte and part of the next: one load.
      const next = this.record[this.pos++]!;
      const value = this.cur | ((next & ((1 << (n - avail)) - 1)) << avail);
      this.cur = next >>> (n - avail);
      this.avail = 8 - (n - avail);
      return value;
    }
    let value = 0;
    let scale = 1;
    let cur = this.cur;
    while (n > 0) {
      if (avail === 0) {
        if (this.pos >= this.record.length) throw new BlockFormatError("block ends inside a reading");
        cur = this.record[this.pos++]!;
        avail = 8;
      }
      const take = n < avail ? n : avail;
      value += (cur & ((1 << take) - 1)) * scale;
      cur >>>= take;
      avail -= take;
      scale *= 1 << take;
      n -= take;
    }
    this.cur = cur;
    this.avail = avail;
    return value;
  }

  private byte(): number {
    if (this.pos >= this.record.length) throw new BlockFormatError("block ends inside a reading");
    return this.record[this.pos++]!;
  }

  private double(): number {
    if (this.pos + 8 > this.record.length) throw new BlockFormatError("block ends inside a value");
    const r = this.record;
    const e = this.eight;
    const p = this.pos;
    e[0] = r[p]!;
    e[1] = r[p + 1]!;
    e[2] = r[p + 2]!;
    e[3] = r[p + 3]!;
    e[4] = r[p + 4]!;
    e[5] = r[p + 5]!;
    e[6] = r[p + 6]!;
    e[7] = r[p + 7]!;
    this.pos = p + 8;
    return this.eightView.getFloat64(0, true);
  }

  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new BlockFormatError("varint longer than 8 bytes");
  }

  /** Copy a stored string (varint length + UTF-8) as a length-delimited field, without decoding it. */
  private rawText(w: ProtoWriter, field: number): void {
    const length = this.varint();
    if (this.pos + length > this.record.length) throw new BlockFormatError("block ends inside a string");
    w.tag(field, WIRE_LEN);
    w.varint(length);
    if (length > 0) w.raw(this.record.subarray(this.pos, this.pos + length));
    this.pos += length;
  }
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Timestamp from integer µs since the epoch, zero fields left out as protobuf-es does. */
export function writeTimestampUs(w: ProtoWriter, field: number, epochUs: number): void {
  const us = epochUs > 0 ? epochUs : 0;
  const seconds = Math.floor(us / 1e6);
  const nanos = (us - seconds * 1e6) * 1000;
  let length = 0;
  if (seconds !== 0) length += 1 + varintSize(seconds);
  if (nanos !== 0) length += 1 + varintSize(nanos);
  w.tag(field, WIRE_LEN);
  w.varint(length);
  if (seconds !== 0) w.uint(1, seconds);
  if (nanos !== 0) w.uint(2, nanos);
}

function varintSize(value: number): number {
  // Comparisons, not divisions: this runs twice per reading on sync's hot path.
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 0x800000000) return 5;
  let size = 6;
  for (let v = value / 0x40000000000; v >= 1; v /= 0x80) size++;
  return size;
}

/** Varint of 0 ≤ value < 2^32 at `pos` (bit operations are exact there); returns the position after it. */
function putVarintU32(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/** Open map entry `name` → Value{struct_value{ … }}; its three marks go to marks[slot..slot+2]. */
function beginEntry(w: ProtoWriter, name: Uint8Array, marks: Int32Array, slot: number): void {
  marks[slot] = w.begin(1);
  w.bytes(1, name);
  marks[slot + 1] = w.begin(2);
  marks[slot + 2] = w.begin(5);
}

function endEntry(w: ProtoWriter, marks: Int32Array, slot: number): void {
  w.end(marks[slot + 2]!);
  w.end(marks[slot + 1]!);
  w.end(marks[slot]!);
}

/** Map entry `name` → Value{number_value}, lengths computed up front (one-byte lengths for short keys). */
function numberEntry(w: ProtoWriter, name: Uint8Array, value: number): void {
  if (name.length >= 0x70) {
    const entry = w.begin(1);
    w.bytes(1, name);
    const v = w.begin(2);
    w.double(2, value);
    w.end(v);
    w.end(entry);
    return;
  }
  w.tag(1, WIRE_LEN);
  w.varint(2 + name.length + 2 + 9);
  w.bytes(1, name);
  w.tag(2, WIRE_LEN);
  w.varint(9);
  w.double(2, value);
}

function boolEntry(w: ProtoWriter, name: Uint8Array, value: boolean): void {
  if (name.length >= 0x70) {
    const entry = w.begin(1);
    w.bytes(1, name);
    const v = w.begin(2);
    w.bool(4, value);
    w.end(v);
    w.end(entry);
    return;
  }
  w.tag(1, WIRE_LEN);
  w.varint(2 + name.length + 2 + 2);
  w.bytes(1, name);
  w.tag(2, WIRE_LEN);
  w.varint(2);
  w.bool(4, value);
}

function nullEntry(w: ProtoWriter, name: Uint8Array): void {
  const entry = w.begin(1);
  w.bytes(1, name);
  const v = w.begin(2);
  w.uint(1, 0);
  w.end(v);
  w.end(entry);
}
