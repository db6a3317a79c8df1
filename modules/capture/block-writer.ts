/*
 * A collector's RAM batch: readings encoded in place into one preallocated
 * block, format 2 (FORMAT.md): every number an integer code at the column's
 * step, delta-coded against the previous reading and bit-packed at the
 * column's width; times as delta-of-delta. Nothing here allocates per
 * reading: buffers, column state and DataViews are made once per collector
 * (the width statistics once per schema).
 *
 * Lossless: a value is stored as a code only if the decoder's own arithmetic
 * (code / divisor or code × multiplier, the same IEEE operation) gives back
 * exactly the same double (Object.is); anything else is escaped as its raw
 * 64 bits. Widths and steps are chosen when a block starts, from the previous
 * block's statistics and the first reading; the driver may declare its step.
 *
 * Fixed-shape methods append straight into the block. Readings maps are first
 * written to a scratch area (format 1's per-reading encoding) while their
 * keys are checked against the block's schema; the commit then packs them.
 * Only a reading whose keys differ from the block's (rare: a sensor that
 * changed its fields) starts a new block with a new schema.
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
  MAX_BLOCK_READINGS,
  MAX_CODE,
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
  OFFSET_SPAN_MS,
} from "./block-format";
import type { FieldWriter } from "./component";
import { KIND_GPIO, KIND_READINGS, kindArity } from "./methods";

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
const EMPTY_VALUES = new Float64Array(0);

/** A name's UTF-8 bytes (schema changes only: allocates). */
function utf8Bytes(value: string): Uint8Array {
  const tmp = new Uint8Array(value.length * 3);
  return tmp.slice(0, encodeUtf8(value, tmp, 0, tmp.length));
}

/** Exact powers of ten 10^0 … 10^9 (the decoder uses the same table). */
export const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** 2^w − 1: the escape marker of a w-bit field. */
export const ONES: readonly number[] = (() => {
  const a: number[] = [];
  for (let w = 0; w <= 32; w++) a.push(2 ** w - 1);
  return a;
})();
const TWO_32_F = 4294967296;
/** Width statistics buckets per column: bucket b counts zigzags needing b bits (33: more than 32). */
const BUCKETS = 34;
/**
 * Bucket 0 of a row (never a count) keeps an upper bound of the row's widest bucket in use: for the time
 * rows the widest field written by field(); for a column the widest value escaped because it did not fit
 * the column's width (every other value fits, so max(width, TOP) bounds the column).
 */
const TOP = 0;
/** Widths of a column with no statistics yet (its first block). */
const DEFAULT_WIDTH = 10;
const DEFAULT_TIME_WIDTH = 4;
/** Worst-case bytes of one reading's times: two fields of ≤ 15 bits, each escaped with ≤ 6 + 53 bits. */
const TIME_BYTES = 20;
/** Worst-case bytes of one number: a 32-bit field, the escape bit and a raw double. */
const NUMBER_BYTES = 13;
/** Worst-case header bytes after the schema: time step and widths. */
const HEADER_BYTES = 8 + 1;
/** Worst-case descriptor bytes of one column: mode/width, width, factor double, base varint. */
const COLUMN_BYTES = 2 + 8 + 8;

/** Bits of a safe integer z ≥ 1. */
function bitLength(z: number): number {
  return z < TWO_32_F ? 32 - Math.clz32(z) : 64 - Math.clz32(Math.floor(z / TWO_32_F));
}

/** Smallest k ≤ 9 with value = code / 10^k exactly (Object.is), or −1. */
export function decimalsOf(value: number): number {
  // No k can fit a value whose 10^9 multiple is not within a few ulps of an integer: if
  // value = fl(code / 10^k), then t = fl(value × 10^9) = N(1 + ε) for the integer N = code × 10^(9−k)
  // and |ε| ≤ 2^−52 (two roundings), so |t − round(t)| ≤ |t − N| ≤ |t| × 2.3e−16. A noisy double (most
  // raw values) is refused here in one test instead of ten; everything else takes the exact loop.
  const t = value * 1e9;
  if (Math.abs(t - Math.round(t)) > Math.abs(t) * 4.5e-16) return -1;
  for (let k = 0; k <= MODE_MAX_DECIMALS; k++) {
    const f = POW10[k]!;
    const code = Math.round(value * f) + 0;
    if (
      code % 1 === 0 &&
      code < MAX_CODE &&
      code > -MAX_CODE &&
      code / f === value &&
      (value !== 0 || 1 / value > 0)
    ) {
      return k;
    }
  }
  return -1;
}

/**
 * What an escape costs in CPU, in bits of flash it is worth: writing one and reading it back are about
 * five calls (~150 computrons) against none for a field that fits, and one bit of width more per reading
 * costs no computron. Charging escapes 16 bits more than they take makes the writer widen a field that
 * escapes often (a column stepping +1 and −6 escaped one value in seven at 2 bits; 4 bits hold both):
 * −115 computrons per 3-axis reading for ~0.4 bit (`npm run bench -- device`).
 */
export const ESCAPE_CPU_BITS = 16;

/**
 * Best width for a column from its bucket counts: bits of the fields plus the escapes' long form and CPU.
 * `bound`: no bucket above it is in use (the caller keeps track of it).
 */
function bestWidth(hist: Uint16Array, at: number, maxWidth: number, fallback: number, bound: number): number {
  // The widest bucket in use: no width above it is cheaper (no escapes, more bits), so the search starts
  // there (or at maxWidth) instead of walking every bucket.
  let top = bound;
  while (top > 0 && hist[at + top] === 0) top--;
  if (top <= 1) return top === 0 ? fallback : 1; // every field fits one bit (a steady rate's zeros)
  let n = 0;
  for (let b = 1; b <= top; b++) n += hist[at + b]!;
  const hi = top < maxWidth ? top : maxWidth;
  // cost(w) = n·w + Σ_{b>w} count_b · (1 + 6 + b + ESCAPE_CPU_BITS): the escapes bit, the length, the bits
  // and the escape's CPU.
  let escapes = 0;
  for (let b = hi + 1; b <= top; b++) escapes += hist[at + b]! * (b + 8 + ESCAPE_CPU_BITS);
  let best = hi;
  let bestCost = n * hi + escapes;
  for (let w = hi - 1; w >= 1; w--) {
    escapes += hist[at + w + 1]! * (w + 9 + ESCAPE_CPU_BITS);
    const cost = n * w + escapes;
    if (cost <= bestCost) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

/** Dictionary index of a schema name, or −1. */
function dictionaryIndex(name: string): number {
  for (let i = 0; i < NAME_DICTIONARY.length; i++) if (NAME_DICTIONARY[i] === name) return i;
  return -1;
}

export class BlockWriter implements FieldWriter {
  readonly kind: number;
  /** Numbers per fixed-shape reading (1 for GPIO; 0 for Readings). */
  readonly arity: number;
  readonly capacity: number;
  /** The block; `ends[0]` is its length once `seal()`ed (shape of the store's RecordBatch). */
  readonly bytes: Uint8Array;
  readonly ends = new Uint32Array(1);
  count = 0;
  /** Monotonic ms of the first reading in the block (for the flush interval). */
  firstMonotonicMs = 0;
  wallBase = false;

  private readonly view: DataView;
  /** addSample's input: the collector's values array and boot id (bindSample). */
  private sampleValues: Float64Array = EMPTY_VALUES;
  private sampleBootId = 0;
  /** Bit stream: whole bytes written up to `pos`, `used` bits pending in `cur`. */
  private pos = 0;
  private cur = 0;
  private used = 0;
  private baseUs = 0;
  private prevUs = 0;
  /** Δ time_requested of the latest reading (carried into the next block's header). */
  private prevDelta = 0;

  // Numeric columns: the fixed kind's values, or a Readings schema's NUMBER fields in order.
  private columns = 0;
  private readonly mode: Uint8Array;
  private readonly factor: Float64Array;
  private readonly width: Uint8Array;
  private readonly prevCode: Float64Array;
  /** Decimals the column needs (from values that were escaped), −1 unknown. */
  private readonly learned: Int8Array;
  /** Values of the column escaped raw in the block (of `count`; the last block's count is `lastCount`). */
  private readonly raws: Uint16Array;
  private lastCount = 0;
  /** fitsFixed's limits, worked out once (capacity and arity are fixed): most readings, most bytes used before a reading. */
  private readonly fixedMaxCount: number;
  private readonly fixedMaxLength: number;
  /** What the block's Readings would take in format 1 (bounds the readings per block). */
  private format1Bytes = 0;
  /** The first reading's numbers (steps are chosen from them when a block starts). */
  private readonly firstValues: Float64Array;
  /**
   * Bucket counts per column, [0] Δ² time, [1] latency, then the columns: sized when the schema changes.
   * Bucket 0 of a row counts nothing (a field needs at least one bit): it holds the row's TOP instead.
   */
  private hist: Uint16Array;
  private timeWidthDod = DEFAULT_TIME_WIDTH;
  private timeWidthLatency = DEFAULT_TIME_WIDTH;
  /** Bits of a steady reading's two zero time fields (timeWidthDod + timeWidthLatency). */
  private steadyBits = 2 * DEFAULT_TIME_WIDTH;
  /**
   * Steady readings (Δ² 0, latency 0) whose two zero time fields were written without a count: added to
   * both time rows' bucket 1 when the next block starts. times() counts its own (`steady`) and every
   * reading it writes (`timed`); every other reading of the block took addSample's steady path.
   */
  private steady = 0;
  private timed = 0;
  /** The driver's declared step for every column (0: none; else MODE_DIVIDE / MODE_MULTIPLY). */
  private declaredMode = 0;
  private declaredFactor = 1;

  // Readings schema of the current block.
  private readonly kinds: Uint8Array;
  private readonly names: string[];
  /** UTF-8 of each name, made when the schema changes, so starting a block allocates nothing. */
  private readonly nameBytes: Uint8Array[];
  /** Dictionary index of each name (−1: written out). */
  private readonly nameIndex: Int16Array;
  private schemaLength = 0;
  // The reading being written (Readings only).
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;
  private spos = 0;
  private cursor = 0;
  private learning = false;
  private readonly newKinds: Uint8Array;
  private readonly newNames: string[];
  private newLength = 0;
  private depth = 0;
  /** READING_* code of the reading being written. */
  problem = READING_OK;
  /** The field the problem was found in (for the log). */
  problemField = "";

  constructor(kind: number, capacityBytes: number) {
    this.kind = kind;
    this.arity = kind === KIND_READINGS ? 0 : kind === KIND_GPIO ? 1 : kindArity(kind);
    this.capacity = capacityBytes;
    // No more readings than format 1 held (fitsFixed): Δt, latency and 8 bytes a number each.
    const byCount = Math.floor(capacityBytes / (3 + 8 * this.arity));
    this.fixedMaxCount = byCount < MAX_BLOCK_READINGS ? byCount : MAX_BLOCK_READINGS;
    this.fixedMaxLength = capacityBytes - TIME_BYTES - this.arity * NUMBER_BYTES - 1;
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
    this.scratch = new Uint8Array(kind === KIND_READINGS ? capacityBytes : 0);
    // The schema (names as strings to compare, and as UTF-8) only for Readings: a fixed-shape writer
    // carries no JS arrays at all (on the ESP32 they were most of a collector's chunk memory).
    const entries = kind === KIND_READINGS ? MAX_SCHEMA_ENTRIES : 0;
    this.kinds = new Uint8Array(entries);
    this.names = new Array<string>(entries).fill("");
    this.nameBytes = new Array<Uint8Array>(entries).fill(EMPTY);
    this.nameIndex = new Int16Array(entries);
    this.newKinds = new Uint8Array(entries);
    this.newNames = new Array<string>(entries).fill("");
    this.scratchView = new DataView(this.scratch.buffer);
    const max = kind === KIND_READINGS ? MAX_SCHEMA_ENTRIES : kind === KIND_GPIO ? 0 : kindArity(kind);
    this.columns = kind === KIND_READINGS ? 0 : max;
    this.mode = new Uint8Array(max);
    this.factor = new Float64Array(max);
    this.width = new Uint8Array(max);
    this.prevCode = new Float64Array(max);
    this.learned = new Int8Array(max).fill(-1);
    this.raws = new Uint16Array(max);
    this.firstValues = new Float64Array(max);
    this.hist = new Uint16Array((this.columns + 2) * BUCKETS);
  }

  /**
   * The driver's step for every value (FORMAT.md, mode A/B): value = code /
   * divisor, or code × multiplier. Values that are not such a code are still
   * stored exactly (escaped), so a wrong declaration costs bytes, never data.
   */
  declareStep(divisor: number, multiplier: number): void {
    if (divisor > 0 && Number.isFinite(divisor)) {
      this.declaredMode = MODE_DIVIDE;
      this.declaredFactor = divisor;
    } else if (multiplier > 0 && Number.isFinite(multiplier)) {
      this.declaredMode = MODE_MULTIPLY;
      this.declaredFactor = multiplier;
    } else this.declaredMode = 0;
  }

  /** Bytes used so far. */
  get length(): number {
    return this.used > 0 ? this.pos + 1 : this.pos;
  }

  /** Patch the count and span into the header; the block is then `bytes[0 .. ends[0])`. */
  seal(): void {
    this.view.setUint16(OFFSET_COUNT, this.count, true);
    const spanMs = Math.ceil((this.prevUs - this.baseUs) / 1000);
    this.view.setUint32(OFFSET_SPAN_MS, spanMs > 0xffffffff ? 0xffffffff : spanMs < 0 ? 0 : spanMs, true);
    if (this.used > 0) this.bytes[this.pos] = this.cur;
    this.ends[0] = this.length;
  }

  /** Forget the block's readings (after they went to the store). The Readings schema is kept. */
  clear(): void {
    this.lastCount = this.count;
    this.format1Bytes = 0;
    this.pos = 0;
    this.cur = 0;
    this.used = 0;
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
    // No more readings than a format-1 block of this batch held (Δt, latency, 8 bytes a number): a block's
    // SensorData must fit sync's request budget as before (a block is never split between requests).
    if ((this.count + 1) * (3 + 8 * arity) > this.capacity) return false;
    return this.length + TIME_BYTES + arity * NUMBER_BYTES + 1 <= this.capacity;
  }

  /**
   * The values array and boot id of every reading `addSample` adds (the collector's, fixed for its
   * life): the hot path passes only what changes per reading.
   */
  bindSample(values: Float64Array, bootId: number): void {
    this.sampleValues = values;
    this.sampleBootId = bootId;
  }

  /**
   * `fitsFixed` and `appendFixed` in one call: 1 appended; 0 no room in this block (seal it, hand it
   * to the store and call again); −1 it cannot fit even alone. `values` holds `arity` numbers (1 for
   * GPIO). The same as `addSample` with these values and boot id bound.
   */
  addFixed(
    wallBase: boolean,
    bootId: number,
    requestedUs: number,
    receivedUs: number,
    monotonicMs: number,
    values: Float64Array,
    arity: number,
  ): number {
    if (arity !== this.arity) throw new RangeError(`addFixed: arity ${arity}, the kind has ${this.arity}`);
    this.sampleValues = values;
    this.sampleBootId = bootId;
    return this.addSample(wallBase, requestedUs, receivedUs, monotonicMs);
  }

  /**
   * The collector's hot path: `addFixed` for the bound values (`bindSample`). The common reading
   * (steady rate, instant read; raw and whole-number columns that fit their width) is written here
   * with the bit stream in locals and no call; anything else goes through `times` / `number1`.
   */
  addSample(wallBase: boolean, requestedUs: number, receivedUs: number, monotonicMs: number): number {
    const count = this.count;
    const values = this.sampleValues;
    if (count === 0) {
      const ok = this.appendFixed(
        wallBase,
        this.sampleBootId,
        requestedUs,
        receivedUs,
        monotonicMs,
        values,
        this.arity,
      );
      return ok ? 1 : -1;
    }
    // fitsFixed, inlined: the length is pos, plus one byte when bits are pending.
    let pos = this.pos;
    const maxLength = this.fixedMaxLength;
    if (
      wallBase !== this.wallBase ||
      count >= this.fixedMaxCount ||
      (pos >= maxLength && (pos > maxLength || this.used > 0))
    )
      return 0;
    const bytes = this.bytes;
    let cur: number;
    let used: number;
    if (requestedUs - this.prevUs === this.prevDelta && receivedUs <= requestedUs) {
      // times(), inlined for Δ² = 0 and latency 0: two zero fields are only bits to skip (their
      // statistics are counted once, when the next block starts).
      this.prevUs = requestedUs;
      cur = this.cur;
      used = this.used + this.steadyBits;
      if (used >= 8) {
        bytes[pos++] = cur;
        used -= 8;
        while (used >= 8) {
          bytes[pos++] = 0;
          used -= 8;
        }
        cur = 0;
      }
    } else {
      this.times(requestedUs, receivedUs);
      pos = this.pos;
      cur = this.cur;
      used = this.used;
    }
    const columns = this.columns;
    if (columns === 0) {
      // GPIO: one bit (a fixed-shape writer has no columns only for it).
      this.pos = pos;
      this.cur = cur;
      this.used = used;
      this.put(values[0] ? 1 : 0, 1);
      this.count = count + 1;
      return 1;
    }
    const modes = this.mode;
    const widths = this.width;
    const prevCode = this.prevCode;
    for (let c = 0; c < columns; c++) {
      const v = values[c]!;
      const mode = modes[c]!;
      if (mode === MODE_RAW) {
        // number1's raw column (format 3: pad to a whole byte, then the 8 bytes).
        if (used > 0) {
          bytes[pos++] = cur;
          cur = 0;
          used = 0;
        }
        this.view.setFloat64(pos, v, true);
        pos += 8;
        continue;
      }
      if (mode === 0 && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
        // number1's whole-number column (v is its own code) when its delta fits the width.
        const delta = v - prevCode[c]!;
        const z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
        const width = widths[c]!;
        const b = 32 - Math.clz32(z + 1);
        if (z < 0xffffffff && b <= width) {
          prevCode[c] = v;
          this.hist[(c + 2) * BUCKETS + b]++;
          // put(z, width), inlined for a field that ends in this byte or the next.
          const free = 8 - used;
          if (width < free) {
            cur |= z << used;
            used += width;
            continue;
          }
          if (width < free + 8) {
            bytes[pos++] = (cur | (z << used)) & 0xff;
            cur = z >>> free;
            used = width - free;
            continue;
          }
          this.pos = pos;
          this.cur = cur;
          this.used = used;
          this.put(z, width);
          pos = this.pos;
          cur = this.cur;
          used = this.used;
          continue;
        }
      }
      this.pos = pos;
      this.cur = cur;
      this.used = used;
      this.number1(c, v);
      pos = this.pos;
      cur = this.cur;
      used = this.used;
    }
    this.pos = pos;
    this.cur = cur;
    this.used = used;
    this.count = count + 1;
    return 1;
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
    const columns = this.columns;
    if (this.count === 0) {
      for (let c = 0; c < columns; c++) this.firstValues[c] = values[c]!;
      this.start(wallBase, bootId, requestedUs, monotonicMs, 0);
      if (this.length + TIME_BYTES + arity * NUMBER_BYTES + 1 > this.capacity) {
        this.clear();
        return false;
      }
    }
    this.times(requestedUs, receivedUs);
    if (this.kind === KIND_GPIO) this.put(values[0] ? 1 : 0, 1);
    else for (let c = 0; c < columns; c++) this.number1(c, values[c]!);
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

  /**
   * Worst-case bytes the finished Readings reading takes in the bit stream:
   * its scratch bytes (8 per number, a byte per bool), each number's field and
   * escape bit on top, a byte of alignment per entry, the times.
   */
  private readingBytes(): number {
    return TIME_BYTES + this.spos + ((this.columns * (MAX_WIDTH + 1)) >> 3) + this.schemaLength + 1;
  }

  /** Room for the finished Readings reading in the current block with this time base? */
  fitsReading(wallBase: boolean): boolean {
    if (this.count === 0) return true;
    if (this.learning || wallBase !== this.wallBase || this.count >= MAX_BLOCK_READINGS) return false;
    // As for fixed shapes: no more readings than format 1 held (its bytes: Δt, latency, the scratch).
    if (this.format1Bytes + 3 + this.spos > this.capacity) return false;
    return this.length + this.readingBytes() <= this.capacity;
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
        this.nameIndex[n] = this.newKinds[i] === FIELD_END ? -1 : dictionaryIndex(this.newNames[i]!);
        this.nameBytes[n] = this.nameIndex[n]! >= 0 ? EMPTY : utf8Bytes(this.newNames[i]!);
        n++;
      }
      for (let i = n; i < this.schemaLength; i++) {
        names[i] = "";
        this.nameBytes[i] = EMPTY;
      }
      this.schemaLength = n;
      this.learning = false;
      let columns = 0;
      for (let i = 0; i < n; i++) if (kinds[i] === FIELD_NUMBER) columns++;
      this.columns = columns;
      // New fields: forget what was learned about the old ones (allocates, as a schema change may).
      this.hist = new Uint16Array((columns + 2) * BUCKETS);
      this.steady = 0;
      this.learned.fill(-1);
      this.raws.fill(0);
    }
    if (this.count === 0) {
      this.collectFirstValues();
      this.start(wallBase, bootId, requestedUs, monotonicMs, this.schemaLength);
      if (this.length + this.readingBytes() > this.capacity) {
        this.clear();
        return false;
      }
    }
    this.times(requestedUs, receivedUs);
    this.format1Bytes += 3 + this.spos;
    this.packScratch();
    this.count++;
    return true;
  }

  /** The scratch (format 1's encoding of one reading) into the bit stream, walking the schema. */
  private packScratch(): void {
    const s = this.scratch;
    const b = this.bytes;
    let sp = 0;
    let column = 0;
    for (let i = 0; i < this.schemaLength; i++) {
      switch (this.kinds[i]) {
        case FIELD_NUMBER:
          this.number1(column++, this.scratchView.getFloat64(sp, true));
          sp += 8;
          break;
        case FIELD_BOOL:
          this.put(s[sp++]!, 1);
          break;
        case FIELD_STRING:
        case FIELD_ANY: {
          const end = this.kinds[i] === FIELD_STRING ? skipText(s, sp) : skipAny(s, sp);
          this.align();
          let pos = this.pos;
          while (sp < end) b[pos++] = s[sp++]!;
          this.pos = pos;
          break;
        }
      }
    }
  }

  /** The first reading's numbers, from the scratch. */
  private collectFirstValues(): void {
    const s = this.scratch;
    let sp = 0;
    let column = 0;
    for (let i = 0; i < this.schemaLength; i++) {
      switch (this.kinds[i]) {
        case FIELD_NUMBER:
          this.firstValues[column++] = this.scratchView.getFloat64(sp, true);
          sp += 8;
          break;
        case FIELD_BOOL:
          sp++;
          break;
        case FIELD_STRING:
          sp = skipText(s, sp);
          break;
        case FIELD_ANY:
          sp = skipAny(s, sp);
          break;
      }
    }
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
    if (this.cursor + this.newLength >= this.kinds.length) {
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
    const delta0 = this.prevDelta;
    const baseMs = baseUs % 1000 === 0;
    const stepMs = delta0 % 1000 === 0;
    b[0] = BLOCK_MAGIC_V3;
    b[1] = this.kind;
    b[2] = (wallBase ? FLAG_WALL_BASE : 0) | (baseMs ? FLAG_BASE_MS : 0) | (stepMs ? FLAG_STEP_MS : 0);
    b[3] = b[4] = b[5] = b[6] = b[7] = b[8] = 0;
    let pos = putVarint(b, BLOCK_FIXED_HEADER, bootId);
    pos = putVarint(b, pos, baseMs ? baseUs / 1000 : baseUs);
    if (this.kind === KIND_READINGS) {
      pos = putVarint(b, pos, schema);
      for (let i = 0; i < schema; i++) {
        const kind = this.kinds[i]!;
        const name = this.nameBytes[i]!;
        const index = this.nameIndex[i]!;
        // A huge name could overflow a tiny batch; the caller's fit check catches pos > capacity.
        if (pos + 6 + name.length > this.capacity) {
          pos = this.capacity + 1;
          break;
        }
        if (kind === FIELD_END) b[pos++] = kind;
        else if (index >= 0 && kind === FIELD_NUMBER) b[pos++] = 0x80 + index;
        else if (index >= 0) {
          b[pos++] = 0x40 + kind;
          b[pos++] = index;
        } else {
          b[pos++] = kind;
          pos = putVarint(b, pos, name.length);
          b.set(name, pos);
          pos += name.length;
        }
      }
    }
    if (pos + HEADER_BYTES + this.columns * COLUMN_BYTES > this.capacity) {
      // Not even the header fits (a tiny batch): the caller's fit check refuses the reading.
      this.pos = this.capacity + 1;
      return;
    }
    // Time: the step the last block ended with (Δ² is 0 for a steady rate), widths from its statistics.
    const step = stepMs ? delta0 / 1000 : delta0;
    pos = putVarint(b, pos, step >= 0 ? step * 2 : -step * 2 - 1);
    const hist = this.hist;
    const steady = this.steady + this.lastCount - this.timed;
    let topDod = hist[TOP]!;
    let topLatency = hist[BUCKETS + TOP]!;
    if (steady > 0) {
      hist[1] += steady;
      hist[BUCKETS + 1] += steady;
      if (topDod < 1) topDod = 1;
      if (topLatency < 1) topLatency = 1;
    }
    const dod = bestWidth(hist, 0, MAX_TIME_WIDTH, this.timeWidthDod, topDod);
    const latency = bestWidth(hist, BUCKETS, MAX_TIME_WIDTH, this.timeWidthLatency, topLatency);
    this.timeWidthDod = dod;
    this.timeWidthLatency = latency;
    this.steadyBits = dod + latency;
    b[pos++] = dod | (latency << 4);
    // Columns: step (declared, or decimals that the first value and the last block needed) and width.
    for (let c = 0; c < this.columns; c++) {
      const v = this.firstValues[c]!;
      let mode = this.declaredMode;
      let f = this.declaredFactor;
      if (mode === 0) {
        const k = decimalsOf(v);
        // More than half of the last block's values of this column escaped raw: no step fits.
        const heavy = this.raws[c]! * 2 > this.lastCount;
        let use = heavy ? -1 : this.learned[c]!;
        if (k > use) use = k;
        if (use < 0) mode = MODE_RAW;
        else {
          mode = use;
          f = POW10[use]!;
        }
        this.learned[c] = use;
      }
      this.mode[c] = mode;
      this.factor[c] = f;
      this.raws[c] = 0;
      if (mode === MODE_RAW) {
        b[pos++] = MODE_RAW << 4;
        continue;
      }
      // The block that ended wrote this column at width[c]: nothing above it but its escapes.
      const last = this.width[c]!;
      const escaped = hist[(c + 2) * BUCKETS + TOP]!;
      const width = bestWidth(
        hist,
        (c + 2) * BUCKETS,
        MAX_WIDTH,
        last || DEFAULT_WIDTH,
        escaped > last ? escaped : last,
      );
      this.width[c] = width;
      if (width <= 15) b[pos++] = (mode << 4) | width;
      else {
        b[pos++] = mode << 4;
        b[pos++] = width;
      }
      if (mode === MODE_DIVIDE || mode === MODE_MULTIPLY) {
        this.view.setFloat64(pos, f, true);
        pos += 8;
      }
      let code = mode === MODE_MULTIPLY ? Math.round(v / f) + 0 : Math.round(v * f) + 0;
      if (!(code % 1 === 0 && code < MAX_CODE && code > -MAX_CODE)) code = 0;
      this.prevCode[c] = code;
      pos = putVarint(b, pos, code >= 0 ? code * 2 : -code * 2 - 1);
    }
    hist.fill(0);
    this.steady = 0;
    this.timed = 0;
    this.pos = pos;
    this.cur = 0;
    this.used = 0;
    this.wallBase = wallBase;
    this.baseUs = baseUs;
    this.prevUs = baseUs;
    this.firstMonotonicMs = monotonicMs;
  }

  /** time_requested as Δ² (none for the first reading: it is the base), then the latency. */
  private times(requestedUs: number, receivedUs: number): void {
    this.timed++;
    const latency = receivedUs > requestedUs ? receivedUs - requestedUs : 0;
    if (this.count > 0) {
      const delta = requestedUs - this.prevUs;
      const dod = delta - this.prevDelta;
      this.prevUs = requestedUs;
      this.prevDelta = delta;
      if (dod === 0 && latency === 0) {
        // A steady rate and an instant read (the common case): two zero fields, one write (counted in
        // both time rows' bucket 1 when the next block starts).
        this.steady++;
        this.put(0, this.steadyBits);
        return;
      }
      // zigzag: the wall clock may step backwards between two readings
      this.field(dod >= 0 ? dod * 2 : -dod * 2 - 1, this.timeWidthDod, 0);
    }
    this.prevUs = requestedUs;
    this.field(latency, this.timeWidthLatency, BUCKETS);
  }

  /** A zigzag or unsigned z in a `width`-bit field, escaped to its long form when it does not fit. */
  private field(z: number, width: number, hist: number): void {
    const b = z < 0xffffffff ? 32 - Math.clz32(z + 1) : 33;
    this.hist[hist + b]++;
    if (hist === 0) {
      if (b > this.hist[TOP]!) this.hist[TOP] = b;
    } else if (b > this.hist[BUCKETS + TOP]!) this.hist[BUCKETS + TOP] = b;
    if (z < ONES[width]!) {
      this.put(z, width);
      return;
    }
    this.put(ONES[width]!, width);
    this.putLong(z);
  }

  /** Escape's long form: 6 bits of length n, then z in n bits. */
  private putLong(z: number): void {
    const n = bitLength(z);
    this.put(n, ESCAPE_LENGTH_BITS);
    if (n <= 32) this.put(z, n);
    else {
      this.put(z % TWO_32_F, 32);
      this.put(Math.floor(z / TWO_32_F), n - 32);
    }
  }

  /** One number of column c: its code's delta, or an escape (long delta, or the raw double). */
  private number1(c: number, v: number): void {
    const mode = this.mode[c]!;
    if (mode === MODE_RAW) {
      // putDouble, inlined: a noisy column takes this path for every value.
      let pos = this.pos;
      if (this.used > 0) {
        this.bytes[pos++] = this.cur;
        this.cur = 0;
        this.used = 0;
      }
      this.view.setFloat64(pos, v, true);
      this.pos = pos + 8;
      return;
    }
    const width = this.width[c]!;
    let code = v;
    let exact: boolean;
    if (mode === 0 && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
      // Whole numbers (a count, an ADC code): v is its own code (an int32, not −0; the decoder's v / 1 is v).
      exact = true;
    } else {
      const f = this.factor[c]!;
      let back: number;
      if (mode === MODE_MULTIPLY) {
        code = Math.round(v / f) + 0;
        back = code * f;
      } else {
        code = Math.round(v * f) + 0;
        back = code / f;
      }
      // The proof: the decoder computes exactly `back` from the integer `code`; store the code only if
      // that is v itself (=== and the sign of zero: Object.is without a call). `% 1`: XS's Math.round
      // returns a subnormal unchanged, not an integer.
      exact = back === v && (v !== 0 || 1 / v > 0) && code % 1 === 0 && code < MAX_CODE && code > -MAX_CODE;
    }
    if (exact) {
      const delta = code - this.prevCode[c]!;
      this.prevCode[c] = code;
      const z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
      if (z < 0xffffffff) {
        // bucket(z), inlined: the bits z + 1 needs
        const b = 32 - Math.clz32(z + 1);
        this.hist[(c + 2) * BUCKETS + b]++;
        if (b <= width) {
          this.put(z, width);
          return;
        }
        if (b > this.hist[(c + 2) * BUCKETS + TOP]!) this.hist[(c + 2) * BUCKETS + TOP] = b;
      } else {
        this.hist[(c + 2) * BUCKETS + 33]++;
        this.hist[(c + 2) * BUCKETS + TOP] = 33;
      }
      this.put(ONES[width]!, width);
      this.put(1, 1);
      this.putLong(z);
      return;
    }
    this.raws[c]++;
    if (mode <= MODE_MAX_DECIMALS && this.declaredMode === 0 && this.learned[c]! < MODE_MAX_DECIMALS) {
      const k = decimalsOf(v);
      if (k > this.learned[c]!) this.learned[c] = k;
    }
    this.put(ONES[width]!, width);
    this.put(0, 1);
    this.putDouble(v);
  }

  /** A raw double (format 3): the stream is padded to a whole byte, then the 8 bytes, one native call. */
  private putDouble(v: number): void {
    let pos = this.pos;
    if (this.used > 0) {
      this.bytes[pos++] = this.cur;
      this.cur = 0;
      this.used = 0;
    }
    this.view.setFloat64(pos, v, true);
    this.pos = pos + 8;
  }

  /** The low `n` bits (n ≤ 32) of v ≥ 0, least significant first. */
  private put(v: number, n: number): void {
    let used = this.used;
    const free = 8 - used;
    if (n < free) {
      this.cur |= v << used;
      this.used = used + n;
      return;
    }
    if (n < free + 8) {
      // Completes the current byte and starts the next (v < 2^15: the shift stays exact).
      this.bytes[this.pos++] = (this.cur | (v << used)) & 0xff;
      this.cur = v >>> free;
      this.used = n - free;
      return;
    }
    let cur = this.cur;
    while (n > 0) {
      const room = 8 - used;
      if (n < room) {
        cur |= v << used;
        used += n;
        break;
      }
      this.bytes[this.pos++] = (cur | ((v & ((1 << room) - 1)) << used)) & 0xff;
      v = v >>> room;
      n -= room;
      used = 0;
      cur = 0;
    }
    this.used = used;
    this.cur = cur;
  }

  /** Pad the bit stream to a whole byte (before strings and self-describing values). */
  private align(): void {
    if (this.used > 0) {
      this.bytes[this.pos++] = this.cur;
      this.cur = 0;
      this.used = 0;
    }
  }
}

/** End of a `varint len, UTF-8` string at `at` in format 1's reading encoding. */
function skipText(s: Uint8Array, at: number): number {
  let length = 0;
  let scale = 1;
  for (;;) {
    const b = s[at++]!;
    length += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  return at + length;
}

function readCount(s: Uint8Array, at: number, out: Uint32Array): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    const b = s[at++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  out[0] = n;
  return at;
}

const countOut = new Uint32Array(1);

/** End of a self-describing value at `at` (FORMAT.md, ANY). */
function skipAny(s: Uint8Array, at: number): number {
  const tag = s[at++]!;
  switch (tag) {
    case ANY_NUMBER:
      return at + 8;
    case ANY_STRING:
      return skipText(s, at);
    case ANY_LIST: {
      at = readCount(s, at, countOut);
      const n = countOut[0]!;
      for (let i = 0; i < n; i++) at = skipAny(s, at);
      return at;
    }
    case ANY_OBJECT: {
      at = readCount(s, at, countOut);
      const n = countOut[0]!;
      for (let i = 0; i < n; i++) at = skipAny(s, skipText(s, at));
      return at;
    }
    default:
      return at; // null, false, true
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
