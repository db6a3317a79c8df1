/*
 * One collector's ring: a fixed run of sectors used in cyclic order, each
 * opened with a sector header and filled with frames (record batches and
 * sync points). See FORMAT.md for the bytes and the power-cut reasoning.
 *
 * RAM per ring: three small typed arrays indexed by sector (state, sector
 * sequence, first record sequence), a bit for "corruption already counted"
 * and a handful of numbers. The sector-sized scratch buffer is shared by all
 * rings of a store. Appending allocates nothing but the view handed to
 * `FlashPort.write`.
 */
import type { FlashPort, Logger } from "../ports";
import {
  checkFrame,
  decodeSectorHeader,
  ERASED,
  encodeSectorHeader,
  FORMAT_VERSION,
  FRAME_BATCH,
  FRAME_HEAD_BYTES,
  FRAME_OVERHEAD_BYTES,
  FRAME_SYNC,
  FRAME_UNITS,
  getU16,
  getU32,
  lengthPrefixBytes,
  MAX_RECORDS_PER_FRAME,
  putLength,
  putU16,
  putU32,
  readLength,
  recordFlashBytes,
  SECTOR_HEADER_BYTES,
  SECTOR_MAGIC_0,
  SECTOR_MAGIC_1,
  SECTOR_PREFIX_BYTES,
  type SectorHeader,
  sealFrame,
  seqAtOrBelow,
  seqFromLow,
} from "./ring-format";
import type { ReadChunk, RecordBatch, Ring, RingCounters } from "./types";

/** What the rings of one store share. */
export interface RingContext {
  readonly flash: FlashPort;
  readonly log: Logger;
  readonly sectorSize: number;
  /** Sector-sized staging and reading buffer (a store is used from one thread). */
  readonly scratch: Uint8Array;
  /** The partition mapped into memory (FlashPort.map), where reads need no copy; undefined: copy. */
  readonly mapped?: Uint8Array | undefined;
  /** Units a record counts for (readings in a capture block); 1 per record when absent. */
  readonly recordUnits?: RecordUnits;
}

/**
 * What a record counts for in `Ring.census()` (e.g. the readings in one of
 * capture's blocks), from its bytes `b[start, end)`. Must not keep `b`. A
 * result that is not an integer in 0..2^24, or a throw, counts as 1.
 */
export type RecordUnits = (b: Uint8Array, start: number, end: number) => number;

/** Pending records and what they count for, from RAM (see `FlashRing.census`). */
export interface RingCensus {
  records: number;
  units: number;
  /** Sequence number of the last record (the sync point when nothing is pending). */
  lastSeq: number;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_40 = 1099511627776;
/** `adoptHead`: not adoptable, but perhaps the next head all the same. */
const LOST_HEAD = -2;
const MAX_RECORD_UNITS = 0x1000000;

/** Where a ring lives; `ringId` is unique across the partition's whole history. */
export interface RingPlacement {
  key: string;
  ringId: number;
  firstSector: number;
  sectors: number;
}

/**
 * An append whose program failed (a flash driver error). The batch's first
 * `stored` records were stored before the failure; the rest were not, and
 * the records of the failed program are in doubt: their sequence numbers are
 * used up, and they are returned later only if they reached flash intact.
 */
export class RingWriteError extends Error {
  readonly stored: number;
  constructor(key: string, stored: number, cause: unknown, what = `append failed after ${stored} record(s)`) {
    super(`storage: ring "${key}": ${what}: ${(cause as Error)?.message ?? cause}`);
    this.stored = stored;
    Object.defineProperty(this, "name", { value: "RingWriteError" });
  }
}

/** Sector states in RAM. DIRTY: unknown contents, must be checked or erased before use. */
const DIRTY = 0;
/** Known to be all 0xFF. */
const CLEAN = 1;
/** Holds this ring's header (and frames): part of the run tail..head. */
const LIVE = 2;

/** Smallest flash read while parsing (fewer, larger reads; a frame is read whole anyway). */
const LOAD_STEP = 256;

/** Largest record a sector of `sectorSize` bytes can hold alone. */
export function maxRecordBytes(sectorSize: number): number {
  // Stryker disable next-line ArithmeticOperator: a higher start only adds turns of the loop below, which walks down to the same largest fitting length
  let length = sectorSize - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES - 1;
  while (length > 0 && SECTOR_PREFIX_BYTES + FRAME_OVERHEAD_BYTES + recordFlashBytes(length) > sectorSize)
    length--;
  return length;
}

export class FlashRing implements Ring {
  readonly key: string;
  readonly ringId: number;
  readonly firstSector: number;
  readonly sectorCount: number;
  readonly maxRecordBytes: number;
  /** The store was opened with `recordUnits`: `census().units` counts what records count for, not records. */
  readonly unitsCounted: boolean;

  private readonly ctx: RingContext;
  private readonly state: Uint8Array;
  private readonly sectorSeqs: Uint32Array;
  private readonly firstSeqs: Float64Array;
  /** Running unit count (mod 2^32) before each live sector's first record; NaN when unknown. */
  private readonly firstUnits: Float64Array;
  /** Running unit count (mod 2^32) after the last record, and through the sync point. */
  private nextUnit = 0;
  private syncUnit = 0;
  private readonly corruptSeen: Uint8Array;
  // Stryker disable next-line ObjectLiteral: every field is written before it is read (decodeSectorHeader on success, stageHeader)
  private readonly header: SectorHeader = { ringId: 0, sectorSeq: 0, firstSeq: 0, syncPoint: 0 };

  private head = -1;
  private tail = -1;
  /** The head before the last openNextSector (to undo it when the new sector's first program fails). */
  // Stryker disable next-line UnaryOperator: openNextSector sets it before programFailed can read it
  private previousHead = -1;
  /** Next free byte in the head sector; sectorSize when the head is full or sealed. */
  private headOffset = 0;
  /** Bumped by every program, erase and close (Ring.version): what writableWithoutErase says changes only then. */
  version = 0;
  /** The head sector was opened in RAM; its header goes out with its first frame. */
  private headerStaged = false;
  private nextSeq = 1;
  private lastSectorSeq = 0;
  private sync = 0;
  private closed = false;
  private dropWarned = false;
  /** Set while a commit of records up to this sequence is being written. */
  private acking = 0;
  /** Records erased while `acking` that only the sync point being written accounts for. */
  private excused = 0;
  /** Where the last read stopped: a checked frame boundary in a live sector, and the sequence there. */
  private cursorSector = -1;
  private cursorSectorSeq = 0;
  private cursorPos = 0;
  private cursorSeq = 0;
  /** What the records of the cursor's sector before the cursor count for (`recordUnits`). */
  private cursorUnits = 0;
  /**
   * The last read's last record, its sector (and that sector's sequence) and what the records of that
   * sector through it count for: commit(lastSeq) right after a read takes its unit count from here
   * instead of reading and re-checking the sector again.
   */
  // Stryker disable next-line UnaryOperator: the fast path in unitsThrough also needs readLastSector, -1 until a read sets both
  private readLastSeq = -1;
  // Stryker disable next-line UnaryOperator: the fast path in unitsThrough also needs seq === readLastSeq, -1 until a read sets both
  private readLastSector = -1;
  private readLastSectorSeq = 0;
  private readLastUnits = 0;

  private appendedCount = 0;
  private committedCount = 0;
  private droppedCount = 0;
  private discardedCount = 0;
  private retainedCount = 0;
  private corruptCount = 0;
  /** Sequence numbers skipped at open past damage that may have held records (never handed out again). */
  private skippedCount = 0;
  /** With no live sector: numbers at or below this were skipped at open (`skipPastHeaders`), nothing to read. */
  private noSectorFloor = 0;
  /** Set by `salvage`: where its parse stopped, the sequence after the last record, the units mark. */
  private salvagedPos = 0;
  private salvagedEnd = 0;
  private salvagedMark = Number.NaN;
  private salvagedDamaged = false;
  private salvagedSync = -1;
  private flashErrorCount = 0;
  private lastFlashError: unknown = undefined;

  constructor(ctx: RingContext, placement: RingPlacement) {
    this.ctx = ctx;
    this.key = placement.key;
    this.ringId = placement.ringId;
    this.firstSector = placement.firstSector;
    this.sectorCount = placement.sectors;
    this.maxRecordBytes = maxRecordBytes(ctx.sectorSize);
    this.unitsCounted = ctx.recordUnits !== undefined;
    this.state = new Uint8Array(placement.sectors);
    this.sectorSeqs = new Uint32Array(placement.sectors);
    this.firstSeqs = new Float64Array(placement.sectors);
    this.firstUnits = new Float64Array(placement.sectors);
    this.corruptSeen = new Uint8Array(placement.sectors);
  }

  get syncPoint(): number {
    return this.sync;
  }

  /** Sequence number the next appended record gets. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  // ---- open ---------------------------------------------------------------

  /**
   * Rebuilds RAM state from flash: one header read per sector, then one read
   * of the head sector to find the write position and the latest sync point.
   * Then applies the reboot rule: discard what follows the sync point, or keep it.
   */
  recover(retainUnsynced: boolean): void {
    const n = this.sectorCount;
    const S = this.ctx.sectorSize;
    const headerBytes = this.ctx.scratch.subarray(0, SECTOR_PREFIX_BYTES);
    const h = this.header;
    let head = -1;
    /** Sectors whose first bytes are neither erased nor an intact header (2: its ring id field is ours). */
    const unreadable = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.ctx.flash.read(this.base(i), headerBytes);
      let intact = decodeSectorHeader(headerBytes, 0, h);
      if (!intact && notErased(headerBytes)) {
        // Damaged in its ring id field alone: with this ring's id it checks, so it is this ring's.
        intact = this.withOwnRingId(headerBytes, h);
        if (intact) this.noteDamagedHeader(i);
        else unreadable[i] = getU32(headerBytes, 4) === this.ringId ? 2 : 1;
      }
      if (intact && h.ringId === this.ringId) {
        this.state[i] = LIVE;
        this.sectorSeqs[i] = h.sectorSeq;
        this.firstSeqs[i] = h.firstSeq;
        // Sectors written before the units mark existed (format 1.0) have none.
        const marked =
          headerBytes[SECTOR_HEADER_BYTES] === FRAME_UNITS &&
          checkFrame(headerBytes, SECTOR_HEADER_BYTES, SECTOR_PREFIX_BYTES) === SECTOR_PREFIX_BYTES;
        this.firstUnits[i] = marked ? getU32(headerBytes, SECTOR_HEADER_BYTES + 4) : Number.NaN;
        if (head < 0 || h.sectorSeq > this.sectorSeqs[head]!) head = i;
      } else {
        this.state[i] = DIRTY;
      }
    }
    // No intact header: a young ring whose only sector's header was damaged keeps its records and numbers.
    for (let i = 0; i < n && head < 0; i++) if (unreadable[i] === 2 && this.adoptLone(i)) head = i;
    if (head < 0) {
      this.skipPastHeaders(unreadable);
      this.applyRebootRule(retainUnsynced);
      return;
    }
    // Sectors are opened in cyclic order with rising sequence numbers, so the
    // live run is the longest such chain ending at the head. Anything outside
    // it (a stale header left by a torn erase, say) is treated as free.
    let tail = head;
    // Stryker disable next-line EqualityOperator: k <= n only reaches the head again, whose sequence is not below the tail's: the chain stops there anyway
    for (let k = 1; k < n; k++) {
      const j = (head - k + n) % n;
      // Sectors between two of the run whose headers no longer read (bit rot): still of the run.
      // (An erased sector there is not one that rotted: a run never leaves a sector of it erased.)
      if (this.state[j] !== LIVE && unreadable[j] && k + 1 < n)
        this.adoptMiddle(j, tail, n - k - 1, unreadable);
      if (
        this.state[j] !== LIVE ||
        this.sectorSeqs[j]! >= this.sectorSeqs[tail]! ||
        this.firstSeqs[j]! > this.firstSeqs[tail]!
      ) {
        break;
      }
      tail = j;
    }
    // Sectors before the tail, their headers damaged: old tails if their records end where the next one's begin.
    for (
      let c = (tail - 1 + n) % n;
      c !== head && this.state[c] !== LIVE && unreadable[c];
      c = (c - 1 + n) % n
    ) {
      if (!this.adoptTail(c, tail)) break;
      tail = c;
    }
    // Stryker disable next-line EqualityOperator: i <= n reads state[n], undefined, never LIVE
    for (let i = 0; i < n; i++)
      if (this.state[i] === LIVE && !this.inRun(i, tail, head)) this.state[i] = DIRTY;
    // Sectors after the head, their headers damaged: the head's successors if their records continue
    // the head's (the last becomes the head, sealed); else one may have been, and its numbers are skipped.
    let skipSector = false;
    let adoptedSync = -1;
    /** Nothing more goes into a head whose header is damaged. */
    let sealHead = false;
    for (let next = (head + 1) % n; next !== tail && this.state[next] !== LIVE && unreadable[next]; ) {
      const known = this.adoptHead(next, head, adoptedSync);
      if (known < 0) {
        skipSector = known === LOST_HEAD;
        if (skipSector) this.noteLostHead(next);
        break;
      }
      adoptedSync = known;
      head = next;
      next = (head + 1) % n;
    }
    this.head = head;
    this.tail = tail;
    this.lastSectorSeq = this.sectorSeqs[head]!;

    const b = this.ctx.scratch;
    this.ctx.flash.read(this.base(head), b);
    if (!decodeSectorHeader(b, 0, h)) {
      // An adopted head (its header damaged): what adoptHead learned instead (its sync frames come next).
      h.firstSeq = this.firstSeqs[head]!;
      h.syncPoint = Math.max(0, adoptedSync);
      sealHead = true;
    }
    let seq = h.firstSeq;
    let sync = h.syncPoint;
    let pos = SECTOR_HEADER_BYTES;
    let sealed = false;
    while (pos + FRAME_OVERHEAD_BYTES <= S) {
      if (b[pos] === ERASED) {
        for (let i = pos; i < S; i++) {
          if (b[i] !== ERASED) {
            sealed = true;
            this.ctx.log.warn(
              `storage: ring "${this.key}" head sector has programmed bytes after its last frame (torn write); sealing it`,
            );
            break;
          }
        }
        break;
      }
      const end = checkFrame(b, pos, S);
      const kind = b[pos];
      if (end < 0 || (kind === FRAME_BATCH && seqFromLow(h.firstSeq, getU32(b, pos + 4)) !== seq)) {
        if (pos === SECTOR_HEADER_BYTES) {
          // A damaged units mark (12 bytes): the sector's frames follow it.
          pos = SECTOR_PREFIX_BYTES;
          this.ctx.log.warn(
            `storage: ring "${this.key}" sector ${this.firstSector + head} has a damaged units mark; its records are read past it`,
          );
          continue;
        }
        sealed = true;
        this.noteCorrupt(head, pos);
        break;
      }
      if (kind === FRAME_BATCH) seq += b[pos + 1]!;
      else if (kind === FRAME_SYNC) {
        // A sync point never exceeds the last record before it, and trails it
        // by less than a ring's worth of records (far below 2^32).
        const value = seqAtOrBelow(seq - 1, getU32(b, pos + 4));
        if (value > sync) sync = value;
      }
      pos = end;
    }
    // Numbers a reader may have seen are never given to other records: past damage in the head, as
    // many as the damaged bytes could hold (a record takes at least one byte), and a whole sector's
    // worth after a head whose successor may have been a head that lost its header.
    const skip = (sealed ? this.roomAfter(pos) : 0) + (skipSector ? this.roomAfter(SECTOR_PREFIX_BYTES) : 0);
    if (skip > 0) {
      this.skippedCount = skip;
      this.ctx.log.warn(
        `storage: ring "${this.key}" sequence numbers ${seq}..${seq + skip - 1} are skipped past damage at its head (sector ${this.firstSector + head}), never to be reused`,
      );
    }
    if (sealHead || skipSector) sealed = true;
    this.headOffset = sealed || pos + FRAME_OVERHEAD_BYTES > S ? S : pos;
    this.nextSeq = seq + skip;
    this.sync = sync;
    if (sync >= this.nextSeq) {
      // Only possible if acknowledged records were damaged after the fact;
      // never hand out sequence numbers the cloud already acknowledged.
      this.ctx.log.warn(
        `storage: ring "${this.key}" sync point ${sync} is past its last intact record ${seq - 1}; continuing after it`,
      );
      this.nextSeq = sync + 1;
      this.headOffset = S;
    }
    this.recoverUnits(pos);
    this.applyRebootRule(retainUnsynced);
  }

  /**
   * Rebuilds the unit counts from the units marks (read with the headers) and
   * the head sector (still in scratch, parsed up to `headEnd`). Sectors
   * without a mark (written before it existed, or whose mark tore) are read
   * and counted: only those, and only down to the sector holding the first
   * pending record. So on a partition written by this version, open reads
   * nothing more for the census but the sector holding the sync point.
   */
  private recoverUnits(headEnd: number): void {
    const n = this.sectorCount;
    const head = this.head;
    const b = this.ctx.scratch;
    const headFirst = this.firstSeqs[head]!;
    const headAll = this.unitsIn(b, headEnd, headFirst, Number.POSITIVE_INFINITY);
    // Stryker disable next-line ConditionalExpression: `true` only parses the head for a sync point below its first record, which counts 0
    const headThroughSync = this.sync >= headFirst ? this.unitsIn(b, headEnd, headFirst, this.sync) : 0;
    // The mark nearest the head anchors the count; without any, the head starts at 0.
    let anchor = head;
    for (let j = head; ; j = (j - 1 + n) % n) {
      if (!Number.isNaN(this.firstUnits[j]!)) {
        anchor = j;
        break;
      }
      if (j === this.tail) {
        this.firstUnits[head] = 0;
        break;
      }
    }
    for (let j = anchor; j !== head; j = (j + 1) % n) {
      const next = (j + 1) % n;
      // Stryker disable next-line ConditionalExpression: between the anchor (the mark nearest the head) and the head no sector has a mark, so the test is always true
      if (Number.isNaN(this.firstUnits[next]!)) {
        this.firstUnits[next] = (this.firstUnits[j]! + this.unitsOfSector(j)) % TWO_POW_32;
      }
    }
    this.nextUnit = (this.firstUnits[head]! + headAll) % TWO_POW_32;
    const floor = this.readFloor();
    const floorSector = this.sectorHolding(floor + 1);
    const rank = (j: number): number => (j - this.tail + n) % n;
    for (let j = anchor; rank(j) > rank(floorSector); ) {
      const prev = (j - 1 + n) % n;
      if (Number.isNaN(this.firstUnits[prev]!)) {
        this.firstUnits[prev] = (this.firstUnits[j]! - this.unitsOfSector(prev) + TWO_POW_32) % TWO_POW_32;
      }
      j = prev;
    }
    // Sectors below it holding no record (sealed empty after a failed program: the next one opened at
    // the same first record) count what it does: the tail's count is the census floor's.
    for (let j = floorSector; j !== this.tail && this.firstSeqs[(j - 1 + n) % n] === this.firstSeqs[j]; ) {
      const prev = (j - 1 + n) % n;
      if (Number.isNaN(this.firstUnits[prev]!)) this.firstUnits[prev] = this.firstUnits[j]!;
      j = prev;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: a shortcut: with sync >= nextSeq - 1 each branch below yields nextUnit too
    if (this.sync >= this.nextSeq - 1) this.syncUnit = this.nextUnit;
    else if (this.sync >= headFirst) this.syncUnit = (this.firstUnits[head]! + headThroughSync) % TWO_POW_32;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: for sync + 1 <= the tail's first record, unitsThrough returns firstUnits[tail] itself
    else if (this.sync + 1 > this.firstSeqs[this.tail]!) this.syncUnit = this.unitsThrough(this.sync);
    else this.syncUnit = this.firstUnits[this.tail]!;
  }

  /** The live sector holding record `seq` (the last one whose first record is at or before it). */
  private sectorHolding(seq: number): number {
    const n = this.sectorCount;
    let s = this.tail;
    for (let j = this.tail; ; j = (j + 1) % n) {
      if (this.firstSeqs[j]! <= seq) s = j;
      if (j === this.head) return s;
    }
  }

  /** Units of the records of sector `b` (parsed up to `limit`) numbered ≤ `upto`; stops at damage. */
  private unitsIn(b: Uint8Array, limit: number, firstSeq: number, upto: number): number {
    let pos = SECTOR_HEADER_BYTES;
    let seq = firstSeq;
    let units = 0;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator: checkFrame(b, pos, limit) rejects a frame past `limit` and an erased byte (0xFF is no frame kind) itself, and a 12-byte frame ending at `limit` holds no record: the guards only save calls
    while (pos + FRAME_OVERHEAD_BYTES <= limit && b[pos] !== ERASED) {
      const end = checkFrame(b, pos, limit);
      if (end < 0 || (b[pos] === FRAME_BATCH && seqFromLow(firstSeq, getU32(b, pos + 4)) !== seq)) {
        // A damaged units mark: the frames follow it.
        if (pos === SECTOR_HEADER_BYTES) {
          pos = SECTOR_PREFIX_BYTES;
          continue;
        }
        break;
      }
      if (b[pos] === FRAME_BATCH) {
        const count = b[pos + 1]!;
        let lengthAt = pos + FRAME_HEAD_BYTES;
        let payloadAt = lengthAt;
        for (let r = 0; r < count; r++) payloadAt += lengthPrefixBytes(readLength(b, payloadAt));
        for (let r = 0; r < count; r++, seq++) {
          const length = readLength(b, lengthAt);
          lengthAt += lengthPrefixBytes(length);
          if (seq > upto) return units;
          units += this.unitsOf(b, payloadAt, payloadAt + length);
          payloadAt += length;
        }
      }
      pos = end;
    }
    return units;
  }

  /** Reads live sector `j` and counts its records' units (sectors without a units mark only). */
  private unitsOfSector(j: number): number {
    const b = this.ctx.scratch;
    // Stryker disable next-line ConditionalExpression,MethodExpression: unitsOfSector is never called for the head (both loops of recoverUnits stop before it)
    const limit = j === this.head ? Math.min(this.headOffset, this.ctx.sectorSize) : this.ctx.sectorSize;
    this.ctx.flash.read(this.base(j), b.subarray(0, limit));
    return this.unitsIn(b, limit, this.firstSeqs[j]!, Number.POSITIVE_INFINITY);
  }

  /** Running unit count through record `seq` (reads part of one sector unless `seq` is at a sector edge). */
  private unitsThrough(seq: number): number {
    if (this.head < 0 || seq >= this.nextSeq - 1) return this.nextUnit;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: otherwise sectorHolding(seq + 1) finds the tail (or an empty sector at the same number) and the next line returns the same count, with no read
    if (seq + 1 <= this.firstSeqs[this.tail]!) return this.firstUnits[this.tail]!;
    const s = this.sectorHolding(seq + 1);
    if (this.firstSeqs[s] === seq + 1) return this.firstUnits[s]!;
    // The last read ended at `seq` in this sector, unchanged since (same sector sequence): it counted it.
    if (
      seq === this.readLastSeq &&
      // Stryker disable next-line ConditionalExpression: `true`: once seq === readLastSeq and seq + 1 is past the tail's first record, the read's sector is still live and is the one sectorHolding found
      s === this.readLastSector &&
      // Stryker disable next-line ConditionalExpression: `true`: a sector reused since the read holds only records below the floor, which returned above
      this.sectorSeqs[s] === this.readLastSectorSeq
    ) {
      return (this.firstUnits[s]! + this.readLastUnits) % TWO_POW_32;
    }
    const b = this.ctx.scratch;
    const limit = s === this.head ? Math.min(this.headOffset, this.ctx.sectorSize) : this.ctx.sectorSize;
    this.ctx.flash.read(this.base(s), b.subarray(0, limit));
    return (this.firstUnits[s]! + this.unitsIn(b, limit, this.firstSeqs[s]!, seq)) % TWO_POW_32;
  }

  private unitsOf(b: Uint8Array, start: number, end: number): number {
    const f = this.ctx.recordUnits;
    if (!f) return 1;
    try {
      const units = f(b, start, end);
      return Number.isInteger(units) && units >= 0 && units <= MAX_RECORD_UNITS ? units : 1;
    } catch {
      return 1;
    }
  }

  /**
   * Records after the sync point and what they count for (`recordUnits`),
   * from RAM: no flash access. What a boot census needs, at no read cost.
   */
  census(): RingCensus {
    const floor = this.readFloor();
    const records = Math.max(0, this.nextSeq - 1 - floor);
    // Stryker disable next-line ConditionalExpression: `false`: with nothing pending the formula below gives 0 units and the same lastSeq (floorUnit is nextUnit then)
    if (records === 0) return { records: 0, units: 0, lastSeq: this.nextSeq - 1 };
    const floorUnit =
      this.tail >= 0 && this.firstSeqs[this.tail]! - 1 >= this.sync
        ? this.firstUnits[this.tail]!
        : this.syncUnit;
    return {
      records,
      units: (this.nextUnit - floorUnit + TWO_POW_32) % TWO_POW_32,
      lastSeq: this.nextSeq - 1,
    };
  }

  private applyRebootRule(retainUnsynced: boolean): void {
    const pending = this.nextSeq - 1 - this.readFloor();
    if (pending <= 0) return;
    if (retainUnsynced) {
      this.retainedCount = pending;
      this.ctx.log.info(
        // Neutral on purpose: under the data manager the reboot rule (keep or discard, counted in
        // readings) is applied next, and says which.
        `storage: ring "${this.key}" has ${pending} unsynced record(s) from before the reboot in flash`,
      );
      return;
    }
    this.discardedCount = pending;
    this.ctx.log.info(
      `storage: ring "${this.key}" discarded ${pending} unsynced records captured before the reboot (after sync point ${this.sync})`,
    );
    const value = this.nextSeq - 1;
    // Persisted now, so the discarded records can never come back on a later
    // boot (with retainUnsynced, say). A full head sector means one erase at
    // boot, before sampling starts; the oldest sector it reuses holds only
    // records at or below `value`, so nothing counts as dropped.
    this.persistSync(value);
    this.sync = value;
    this.syncUnit = this.nextUnit;
  }

  /**
   * Writes a sync frame for `value`; a failed program is retried once in a
   * fresh sector (the failed one is sealed). Throws if both fail: the sync
   * point then stays at its old value in RAM (on flash it is the old or, if
   * the failed program landed after all, the new one).
   */
  private persistSync(value: number): void {
    this.acking = value;
    this.excused = 0;
    let done = false;
    try {
      done = this.writeSync(value) || this.writeSync(value);
    } finally {
      this.acking = 0;
      // Erased on the way but never acknowledged after all: dropped.
      if (!done) this.droppedCount += this.excused;
      this.excused = 0;
    }
    if (!done) throw new RingWriteError(this.key, 0, this.lastFlashError, "sync point not persisted");
  }

  // ---- writer ---------------------------------------------------------------

  append(batch: RecordBatch): void {
    this.checkOpen();
    const count = batch.count;
    const ends = batch.ends;
    const bytes = batch.bytes;
    if (!Number.isInteger(count) || count < 0 || count > ends.length) {
      throw new RangeError(`storage: batch count ${count} outside 0..${ends.length}`);
    }
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = ends[i]!;
      if (end < start || end > bytes.length)
        throw new RangeError(`storage: batch record ${i} ends at ${end}`);
      if (end - start > this.maxRecordBytes) {
        throw new RangeError(
          `storage: record of ${end - start} bytes exceeds the ${this.maxRecordBytes}-byte maximum`,
        );
      }
      start = end;
    }
    const S = this.ctx.sectorSize;
    const b = this.ctx.scratch;
    let i = 0;
    start = 0;
    let failures = 0;
    while (i < count) {
      if (this.head < 0 || this.headOffset + FRAME_OVERHEAD_BYTES + recordFlashBytes(ends[i]! - start) > S) {
        try {
          this.openNextSector();
        } catch (error) {
          // An erase failed: the records before it are stored, the rest are not.
          if (i > 0) throw new RingWriteError(this.key, i, error);
          throw error;
        }
      }
      let w = 0;
      let writeAt = this.headOffset;
      if (this.headerStaged) {
        w = this.stageHeader();
        writeAt = 0;
      }
      const firstRecord = i;
      const firstStart = start;
      let seq = this.nextSeq;
      // Every frame that fits in this sector goes out in one program operation.
      while (i < count && writeAt + w + FRAME_OVERHEAD_BYTES + recordFlashBytes(ends[i]! - start) <= S) {
        // How many records this frame takes: as many as fit, at most 255.
        let used = w + FRAME_OVERHEAD_BYTES;
        let k = i;
        let payloadEnd = start;
        while (k < count && k - i < MAX_RECORDS_PER_FRAME) {
          const length = ends[k]! - payloadEnd;
          if (writeAt + used + recordFlashBytes(length) > S) break;
          used += recordFlashBytes(length);
          payloadEnd = ends[k]!;
          k++;
        }
        const frame = w;
        let p = frame + FRAME_HEAD_BYTES;
        let recordStart = start;
        for (let r = i; r < k; r++) {
          p = putLength(b, p, ends[r]! - recordStart);
          recordStart = ends[r]!;
        }
        // The payloads are contiguous in the batch: one native copy per frame.
        // Stryker disable next-line ConditionalExpression,EqualityOperator: copying an empty range copies nothing
        if (payloadEnd > start) b.set(bytes.subarray(start, payloadEnd), p);
        p += payloadEnd - start;
        b[frame] = FRAME_BATCH;
        b[frame + 1] = k - i;
        putU16(b, frame + 2, p - frame - FRAME_HEAD_BYTES);
        putU32(b, frame + 4, seq);
        w = sealFrame(b, frame, p);
        seq += k - i;
        i = k;
        start = payloadEnd;
      }
      const intact = this.program(writeAt, w, "append");
      const stored = intact < 0 ? seq - this.nextSeq : intact;
      let units = this.nextUnit;
      for (let r = firstRecord; r < firstRecord + stored; r++) {
        units += this.unitsOf(bytes, r === 0 ? 0 : ends[r - 1]!, ends[r]!);
      }
      this.nextUnit = units % TWO_POW_32;
      if (intact < 0) {
        this.headerStaged = false;
        this.headOffset = writeAt + w;
        this.appendedCount += seq - this.nextSeq;
        this.nextSeq = seq;
        continue;
      }
      // The program failed and only its first `intact` records reached flash
      // whole: they are stored; the rest go again into a fresh sector, once.
      this.appendedCount += intact;
      this.nextSeq += intact;
      i = firstRecord + intact;
      start = i > firstRecord ? ends[i - 1]! : firstStart;
      if (++failures > 1) throw new RingWriteError(this.key, i, this.lastFlashError);
    }
  }

  writableWithoutErase(): number {
    if (this.closed) return 0;
    const S = this.ctx.sectorSize;
    const n = this.sectorCount;
    let avail = this.head < 0 ? 0 : Math.max(0, S - this.headOffset - FRAME_OVERHEAD_BYTES);
    // Stryker disable next-line ConditionalExpression: with no head, (head + 1) % n is 0 as well
    let j = this.head < 0 ? 0 : (this.head + 1) % n;
    // Stryker disable next-line ArithmeticOperator: with a head, the scan stops at it (live, not clean) before n - 1 sectors anyway
    const limit = this.head < 0 ? n : n - 1;
    for (let k = 0; k < limit && this.state[j] === CLEAN; k++) {
      avail += S - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES;
      j = (j + 1) % n;
    }
    return avail;
  }

  eraseAhead(bytes: number): number {
    this.checkOpen();
    const S = this.ctx.sectorSize;
    const n = this.sectorCount;
    let avail = this.head < 0 ? 0 : Math.max(0, S - this.headOffset - FRAME_OVERHEAD_BYTES);
    // Stryker disable next-line ConditionalExpression: with no head, (head + 1) % n is 0 as well
    let j = this.head < 0 ? 0 : (this.head + 1) % n;
    const limit = this.head < 0 ? n : n - 1;
    let erased = 0;
    for (let k = 0; k < limit && avail < bytes; k++) {
      if (this.state[j] === LIVE) erased += this.dropTail();
      else if (this.state[j] === DIRTY) erased += this.makeClean(j);
      avail += S - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES;
      j = (j + 1) % n;
    }
    return erased;
  }

  // ---- reader -----------------------------------------------------------------

  read(budgetBytes: number, afterSeq?: number): ReadChunk | null {
    this.checkOpen();
    const floor = this.readFloor();
    const after = afterSeq === undefined || !(afterSeq > floor) ? floor : Math.floor(afterSeq);
    const from = after + 1;
    if (from >= this.nextSeq || this.head < 0) return null;
    const n = this.sectorCount;
    const S = this.ctx.sectorSize;
    const mapped = this.ctx.mapped;
    let b = this.ctx.scratch;
    // Stryker disable next-line UnaryOperator: both branches below assign s before it is read
    let s = -1;
    let pos = SECTOR_HEADER_BYTES;
    let seq = 0;
    /** Units of the records of sector s before `pos` (what unitsIn would count). */
    let units = 0;
    // Resume where the last read stopped when it covers `from`: the frames
    // before that point were checked already and NOR never changes them short
    // of an erase (which gives the sector a new sector sequence).
    const c = this.cursorSector;
    if (
      c >= 0 &&
      this.state[c] === LIVE &&
      this.sectorSeqs[c] === this.cursorSectorSeq &&
      from >= this.cursorSeq &&
      (c === this.head || from < this.firstSeqs[(c + 1) % n]!)
    ) {
      s = c;
      pos = this.cursorPos;
      seq = this.cursorSeq;
      units = this.cursorUnits;
    } else {
      // The sector holding `from`: the last live one whose first sequence is ≤ from.
      s = this.tail;
      for (let j = this.tail; ; j = (j + 1) % n) {
        if (this.firstSeqs[j]! <= from) s = j;
        if (j === this.head) break;
      }
      seq = this.firstSeqs[s]!;
    }
    const records: Uint8Array[] = [];
    let total = 0;
    let firstSeq = 0;
    let lastSeq = 0;
    let full = false;
    for (;;) {
      const end = s === this.head ? this.headOffset : S;
      // Load the sector's bytes as parsing reaches them: a small budget reads
      // little, and a resumed read does not re-read what came before. Each
      // load asks for what the rest of the budget needs (at least LOAD_STEP),
      // so a large read is one flash read (one view) per sector, not one per 256 bytes.
      let loaded = pos;
      const base = this.base(s);
      // Mapped flash: the sector is parsed where it is (records are still copied out). Anything there
      // but a clean end (an erased byte, a frame that fails its check) is read again through the
      // driver before it counts: a stale map must never be why a record is skipped.
      let direct = false;
      if (mapped !== undefined) {
        b = mapped.subarray(base, base + S);
        loaded = end;
        direct = true;
      }
      for (;;) {
        // A full budget stops before the next frame is even loaded.
        if (records.length > 0 && total >= budgetBytes) full = true;
        if (full) {
          this.setCursor(s, pos, seq, units);
          break;
        }
        // Stryker disable next-line EqualityOperator: `>=` only stops before a 12-byte frame ending at `end`, a sync frame: no record
        if (pos + FRAME_OVERHEAD_BYTES > end) break;
        if (pos + FRAME_HEAD_BYTES > loaded)
          loaded = this.load(base, loaded, pos + FRAME_HEAD_BYTES, end, budgetBytes - total);
        // In the map, an erased byte goes on to the frame check, which refuses it (0xFF is no frame kind).
        if (b[pos] === ERASED && !direct) break;
        const frameEnd = Math.min(end, pos + FRAME_OVERHEAD_BYTES + getU16(b, pos + 2));
        if (frameEnd > loaded) loaded = this.load(base, loaded, frameEnd, end, budgetBytes - total);
        // Stryker disable next-line MethodExpression: loaded already covers the frame (loaded >= frameEnd), so a limit of `end` checks the same bytes
        const frameStop = checkFrame(b, pos, Math.min(end, loaded));
        if (
          frameStop < 0 ||
          (b[pos] === FRAME_BATCH && seqFromLow(this.firstSeqs[s]!, getU32(b, pos + 4)) !== seq)
        ) {
          if (direct) {
            direct = false;
            b = this.ctx.scratch;
            loaded = pos;
            continue;
          }
          // A damaged units mark: the sector's frames follow it.
          if (pos === SECTOR_HEADER_BYTES) {
            pos = SECTOR_PREFIX_BYTES;
            continue;
          }
          this.noteCorrupt(s, pos);
          break;
        }
        if (b[pos] === FRAME_BATCH) {
          const count = b[pos + 1]!;
          const frameSeq = seq;
          const frameUnits = units;
          // Lengths first, then the payloads back to back.
          let lengthAt = pos + FRAME_HEAD_BYTES;
          let payloadAt = lengthAt;
          for (let r = 0; r < count; r++) payloadAt += lengthPrefixBytes(readLength(b, payloadAt));
          for (let r = 0; r < count; r++, seq++) {
            const length = readLength(b, lengthAt);
            lengthAt += lengthPrefixBytes(length);
            if (seq >= from) {
              if (records.length > 0 && total + length > budgetBytes) {
                full = true;
                break;
              }
              records.push(b.slice(payloadAt, payloadAt + length));
              total += length;
              if (records.length === 1) firstSeq = seq;
              lastSeq = seq;
              units += this.unitsOf(b, payloadAt, payloadAt + length);
              this.noteReadLast(s, seq, units);
            } else units += this.unitsOf(b, payloadAt, payloadAt + length);
            payloadAt += length;
          }
          if (full) {
            this.setCursor(s, pos, frameSeq, frameUnits);
            break;
          }
        }
        pos = frameStop;
      }
      if (full) break;
      if (s === this.head) {
        this.setCursor(s, pos, seq, units);
        break;
      }
      s = (s + 1) % n;
      pos = SECTOR_HEADER_BYTES;
      seq = this.firstSeqs[s]!;
      units = 0;
    }
    if (records.length === 0) return null;
    return { records, firstSeq, lastSeq, bytes: total };
  }

  commit(uptoSeq: number): void {
    this.checkOpen();
    if (!(uptoSeq > this.sync)) return;
    const upto = Math.min(Math.floor(uptoSeq), this.nextSeq - 1);
    if (upto <= this.sync) return;
    const floor = this.readFloor();
    // Writing the sync point may have to reuse the oldest sector: records in
    // it up to `upto` were acknowledged, so they count as committed, not dropped.
    // Records at or below the floor are gone already; persisting at least the
    // floor keeps every sync frame within 2^32 of the records around it.
    const value = Math.max(upto, floor);
    const unit = this.unitsThrough(value);
    this.persistSync(value);
    this.syncUnit = unit;
    // Stryker disable next-line EqualityOperator: `>=` only adds upto - floor = 0
    if (upto > floor) this.committedCount += upto - floor;
    this.sync = value;
    this.dropWarned = false;
  }

  counters(): RingCounters & { retained: number; flashErrors: number; skipped: number } {
    const n = this.sectorCount;
    const S = this.ctx.sectorSize;
    const live = this.head < 0 ? 0 : ((this.head - this.tail + n) % n) + 1;
    return {
      appended: this.appendedCount,
      committed: this.committedCount,
      dropped: this.droppedCount,
      discarded: this.discardedCount,
      retained: this.retainedCount,
      pending: Math.max(0, this.nextSeq - 1 - this.readFloor()),
      corrupt: this.corruptCount,
      flashErrors: this.flashErrorCount,
      skipped: this.skippedCount,
      bytesUsed: live === 0 ? 0 : (live - 1) * S + Math.min(this.headOffset, S),
      bytesPending: this.pendingBytes(),
      capacityBytes: (n - 1) * (S - SECTOR_HEADER_BYTES),
    };
  }

  /**
   * Record space (sector headers excluded, as in capacityBytes) from the first
   * record after the sync point to the write head. Whole sectors count in full;
   * the sector holding the sync point counts the share of its records that are
   * pending, since where a record sits inside a sector is known only by
   * reading it. No flash access.
   */
  private pendingBytes(): number {
    const floor = this.readFloor();
    if (this.head < 0 || this.nextSeq - 1 <= floor) return 0;
    const n = this.sectorCount;
    const room = this.ctx.sectorSize - SECTOR_HEADER_BYTES;
    const from = floor + 1;
    let total = 0;
    for (let j = this.head; ; j = (j - 1 + n) % n) {
      const used =
        j === this.head
          ? Math.max(0, Math.min(this.headOffset, this.ctx.sectorSize) - SECTOR_PREFIX_BYTES)
          : room;
      const first = this.firstSeqs[j]!;
      // Stryker disable next-line EqualityOperator: `>` sends a sector whose first record is the first pending one to the share below, which is then all of it (used * (end - from) / (end - first))
      if (first >= from) {
        // Every record of this sector is pending.
        total += used;
        // Stryker disable next-line LogicalOperator: at the tail, first >= from means first === from (from is at least the tail's first record)
        if (first === from || j === this.tail) return total;
        continue;
      }
      // The sync point lies inside this sector: the pending share of its records.
      const end = j === this.head ? this.nextSeq : this.firstSeqs[(j + 1) % n]!;
      return total + Math.round((used * (end - from)) / (end - first));
    }
  }

  /** Counts records whose flash goes away with this ring (layout change); the ring is unusable after. */
  retire(): number {
    const pending = Math.max(0, this.nextSeq - 1 - this.readFloor());
    this.closed = true;
    return pending;
  }

  close(): void {
    this.closed = true;
    this.version++;
  }

  /** Counts carried over when a ring is replaced (same key, new size). */
  inheritDiscarded(count: number): void {
    this.discardedCount += count;
  }

  // ---- internals ----------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new Error(`storage: ring "${this.key}" is closed or was removed from the layout`);
  }

  private base(sector: number): number {
    return (this.firstSector + sector) * this.ctx.sectorSize;
  }

  private inRun(i: number, tail: number, head: number): boolean {
    const n = this.sectorCount;
    return (i - tail + n) % n <= (head - tail + n) % n;
  }

  /** Records at or below this are never handed out again: acknowledged, discarded or dropped. */
  private readFloor(): number {
    if (this.tail < 0) return Math.max(this.sync, this.noSectorFloor);
    const beforeTail = this.firstSeqs[this.tail]! - 1;
    return Math.max(beforeTail, this.sync);
  }

  /**
   * Reads scratch[loaded, stop) of the sector at `base` and returns `stop`: at
   * least up to `upTo`, and as far as the rest of the budget (plus framing) or
   * LOAD_STEP reaches, never past `end`.
   */
  private load(base: number, loaded: number, upTo: number, end: number, budgetLeft: number): number {
    // Stryker disable next-line EqualityOperator: `>=` differs only with exactly 256 bytes of budget left (288 bytes asked instead of 256): speed only
    const want = budgetLeft > LOAD_STEP ? budgetLeft + (budgetLeft >> 3) : LOAD_STEP;
    const stop = Math.min(end, Math.max(upTo, loaded + want));
    this.ctx.flash.read(base + loaded, this.ctx.scratch.subarray(loaded, stop));
    return stop;
  }

  private setCursor(sector: number, pos: number, seq: number, units: number): void {
    this.cursorSector = sector;
    this.cursorSectorSeq = this.sectorSeqs[sector]!;
    this.cursorPos = pos;
    this.cursorSeq = seq;
    this.cursorUnits = units;
  }

  private noteReadLast(sector: number, seq: number, units: number): void {
    this.readLastSeq = seq;
    this.readLastSector = sector;
    this.readLastSectorSeq = this.sectorSeqs[sector]!;
    this.readLastUnits = units;
  }

  private noteCorrupt(sector: number, pos: number): void {
    if (this.corruptSeen[sector]) return;
    this.corruptSeen[sector] = 1;
    this.corruptCount++;
    this.ctx.log.warn(
      `storage: ring "${this.key}" sector ${this.firstSector + sector} has a damaged frame at byte ${pos}; the rest of that sector is skipped`,
    );
  }

  /**
   * Decodes the header at the start of `b` as if its ring id field held this
   * ring's id (a CRC-32 over 24 bytes tells a damaged id field from another
   * ring's header); `b` is left as it was.
   */
  private withOwnRingId(b: Uint8Array, h: SectorHeader): boolean {
    const id = getU32(b, 4);
    if (id === this.ringId) return false;
    putU32(b, 4, this.ringId);
    const ok = decodeSectorHeader(b, 0, h);
    putU32(b, 4, id);
    return ok;
  }

  /** Counts (once per sector) and logs a sector of the run whose header is damaged. */
  private noteDamagedHeader(sector: number): void {
    if (!this.corruptSeen[sector]) {
      this.corruptSeen[sector] = 1;
      this.corruptCount++;
    }
    this.ctx.log.warn(
      `storage: ring "${this.key}" sector ${this.firstSector + sector} has a damaged header; it stays in the ring and its records are checked frame by frame`,
    );
  }

  /** How many records the bytes of a sector from `pos` on could hold (each takes at least one byte). */
  private roomAfter(pos: number): number {
    return Math.max(0, this.ctx.sectorSize - pos - FRAME_OVERHEAD_BYTES);
  }

  /**
   * Reads sector `j` whole into scratch and parses its frames (past a
   * damaged units mark): returns the sequence of its first record, rebuilt
   * upwards from `base` (with `exact`, it must be `base`), or -1 if it has no
   * intact batch. Sets `salvagedEnd` (the sequence after the last record
   * before any damage), `salvagedPos` (where parsing stopped),
   * `salvagedDamaged` (something other than erased bytes follows),
   * `salvagedSync` (the latest sync frame, -1 if none) and `salvagedMark`.
   * Only for sectors whose header or neighbour is damaged: a healthy open
   * never calls it.
   */
  private salvage(j: number, base: number, exact: boolean): number {
    const S = this.ctx.sectorSize;
    const b = this.ctx.scratch;
    this.ctx.flash.read(this.base(j), b);
    const marked =
      b[SECTOR_HEADER_BYTES] === FRAME_UNITS &&
      checkFrame(b, SECTOR_HEADER_BYTES, SECTOR_PREFIX_BYTES) === SECTOR_PREFIX_BYTES;
    this.salvagedMark = marked ? getU32(b, SECTOR_HEADER_BYTES + 4) : Number.NaN;
    let first = exact ? base : -1;
    let seq = base;
    let sync = -1;
    let pos = SECTOR_HEADER_BYTES;
    let damaged = false;
    while (pos + FRAME_OVERHEAD_BYTES <= S) {
      if (b[pos] === ERASED) {
        damaged = notErased(b, pos, S);
        break;
      }
      const end = checkFrame(b, pos, S);
      const batch = end >= 0 && b[pos] === FRAME_BATCH;
      const at = batch ? seqFromLow(first < 0 ? base : first, getU32(b, pos + 4)) : 0;
      if (end < 0 || (batch && first >= 0 && at !== seq)) {
        if (pos === SECTOR_HEADER_BYTES) {
          pos = SECTOR_PREFIX_BYTES;
          continue;
        }
        damaged = true;
        break;
      }
      if (batch) {
        if (first < 0) first = at;
        seq = at + b[pos + 1]!;
      } else if (b[pos] === FRAME_SYNC && seq > 1) {
        sync = Math.max(sync, seqAtOrBelow(seq - 1, getU32(b, pos + 4)));
      }
      pos = end;
    }
    this.salvagedEnd = seq;
    this.salvagedPos = pos;
    this.salvagedDamaged = damaged;
    this.salvagedSync = sync;
    return first;
  }

  /** Makes sector `j` (header damaged) one of the run, under the given sequences. */
  private adopt(j: number, sectorSeq: number, firstSeq: number, firstUnits: number): void {
    this.state[j] = LIVE;
    this.sectorSeqs[j] = sectorSeq;
    this.firstSeqs[j] = firstSeq;
    this.firstUnits[j] = firstUnits;
    this.noteDamagedHeader(j);
  }

  /**
   * Sector `j` and up to `most - 1` sectors before it have no readable
   * header; the live sector before them and `cur`, already in the run, have
   * sector sequences more than their distance and at most n apart (so those
   * sectors were opened between them, in the same lap: their headers were
   * damaged after the fact). They join the run; each one's first record is
   * its first intact batch's, or, if none is readable, the next one's (its
   * records, unreadable, count as pending in the range of the one before).
   */
  private adoptMiddle(j: number, cur: number, most: number, unreadable: Uint8Array): void {
    const n = this.sectorCount;
    let prev = (j - 1 + n) % n;
    let between = 1;
    while (this.state[prev] !== LIVE && unreadable[prev] && between < most) {
      prev = (prev - 1 + n) % n;
      between++;
    }
    if (this.state[prev] !== LIVE) return;
    const gap = this.sectorSeqs[cur]! - this.sectorSeqs[prev]!;
    const from = this.firstSeqs[prev]!;
    if (gap <= between || gap > n || from > this.firstSeqs[cur]!) return;
    for (let x = j, next = cur; x !== prev; next = x, x = (x - 1 + n) % n) {
      const to = this.firstSeqs[next]!;
      const first = this.salvage(x, from, false);
      const ok = first >= from && this.salvagedEnd <= to;
      this.adopt(x, this.sectorSeqs[next]! - 1, ok ? first : to, ok ? this.salvagedMark : Number.NaN);
    }
  }

  /**
   * Sector `c` comes just before the tail and its header does not read: it
   * was the tail if its records come within three sectors' worth before the
   * tail's and end no later than where the tail's begin (earlier if its last
   * frames are damaged too: those numbers stay pending, unreadable).
   */
  private adoptTail(c: number, tail: number): boolean {
    const to = this.firstSeqs[tail]!;
    // A sector holds fewer numbers than bytes; numbers skipped at an open before can add two sectors' worth.
    const first = this.salvage(c, Math.max(1, to - 3 * this.ctx.sectorSize), false);
    if (first < 1 || first >= to || this.salvagedEnd > to) return false;
    this.adopt(c, this.sectorSeqs[tail]! - 1, first, this.salvagedMark);
    return true;
  }

  /**
   * Sector `next` follows the head and its header does not read: it was the
   * next head if its first record continues the head's records (or follows
   * damage at the head's end, within what that damage could hold). Then it
   * joins the run and the sync point the old head holds is returned; else
   * LOST_HEAD if it may have been the next head all the same, or -1.
   * `adoptedSync`: the head's sync point if the head was adopted itself (its header unreadable).
   */
  private adoptHead(next: number, head: number, adoptedSync: number): number {
    const h = this.header;
    this.salvage(head, this.firstSeqs[head]!, true);
    const end = this.salvagedEnd;
    const window = this.salvagedDamaged ? this.roomAfter(this.salvagedPos) : 0;
    const sync = this.salvagedSync;
    // The head's sync point: its header's, or, for a head adopted just before, what was known then.
    const headSync = Math.max(
      decodeSectorHeader(this.ctx.scratch, 0, h) ? h.syncPoint : adoptedSync,
      sync,
      0,
    );
    const first = this.salvage(next, end, false);
    // Only a sector that names this ring: another ring's old sector could continue the same numbers.
    const b = this.ctx.scratch;
    if (first < end || first > end + window || getU32(b, 4) !== this.ringId) {
      // Not adoptable; but if its header still holds the next sector sequence or a first record
      // where the head's end, it may have been the next head, damaged past recognition.
      const field = getU32(b, 12) + getU16(b, 16) * TWO_POW_32;
      const nextSectorSeq = getU32(b, 8) === (this.sectorSeqs[head]! + 1) % TWO_POW_32;
      return nextSectorSeq || (field >= end && field <= end + window) ? LOST_HEAD : -1;
    }
    this.adopt(next, this.sectorSeqs[head]! + 1, first, this.salvagedMark);
    return headSync;
  }

  /**
   * Sector `next` after the head may have been the next head, its header and
   * first frame damaged (its ring id field or its first frame unreadable):
   * its records cannot be returned (they may be another ring's, or a torn
   * write's); its numbers are skipped. Counted and logged. (Every old sector
   * of this ring names it, so the ring id field alone says little: an old
   * one whose erase was cut has an older sector sequence and first record.)
   */
  private noteLostHead(next: number): void {
    if (!this.corruptSeen[next]) {
      this.corruptSeen[next] = 1;
      this.corruptCount++;
    }
    this.ctx.log.warn(
      `storage: ring "${this.key}" sector ${this.firstSector + next} after its head may have been its next head (damaged header); its records are not returned`,
    );
  }

  /**
   * No sector of the ring has a usable header. A damaged one that still names
   * this ring and is recognisably a sector header (magic, version, length)
   * but holds no intact batch (its first frame damaged too, or a first
   * program cut short) may have held records a reader saw: numbering
   * continues past every number it could hold, from its first-record field,
   * so none is given to other data. No sector holds them, so they are not
   * pending: the ring's floor starts after them (the sync point stays what it
   * was: a cut leaves it old or new, never anything else). Counted and
   * logged. (A header whose ring id field is damaged is not taken: after a
   * layout change a new ring's sectors hold other rings' headers.)
   */
  private skipPastHeaders(unreadable: Uint8Array): void {
    const b = this.ctx.scratch.subarray(0, SECTOR_HEADER_BYTES);
    let top = 0;
    let from = -1;
    for (let i = 0; i < this.sectorCount; i++) {
      if (unreadable[i] !== 2) continue;
      this.ctx.flash.read(this.base(i), b);
      if (
        b[0] !== SECTOR_MAGIC_0 ||
        b[1] !== SECTOR_MAGIC_1 ||
        b[2] !== FORMAT_VERSION ||
        b[3] !== SECTOR_HEADER_BYTES
      )
        continue;
      // A torn header can read all 0xFF in its high bytes: beyond 2^40 it is not believed.
      const first = getU32(b, 12) + getU16(b, 16) * TWO_POW_32;
      if (first < 1 || first >= TWO_POW_40) continue;
      const past = first + this.roomAfter(SECTOR_PREFIX_BYTES);
      if (past > top) {
        top = past;
        from = i;
      }
    }
    if (from < 0) return;
    this.corruptSeen[from] = 1;
    this.corruptCount++;
    this.nextSeq = top;
    this.noSectorFloor = top - 1;
    this.skippedCount = top - 1;
    this.ctx.log.warn(
      `storage: ring "${this.key}" has no readable sector header; sector ${this.firstSector + from} has a damaged one that may be its own: numbering continues at ${top}`,
    );
  }

  /**
   * Sector `i` has a damaged header whose ring id field is this ring's, and
   * no sector of the ring has an intact one: a young ring's only sector. It
   * becomes the head if it holds an intact batch, numbered from its frames
   * (the header's fields are not believed: a damaged high byte would
   * renumber every record); no other sector of the ring has a header, so its
   * sector sequence can start over at 1.
   */
  private adoptLone(i: number): boolean {
    const first = this.salvage(i, 1, false);
    if (first < 1) return false;
    this.adopt(i, 1, first, this.salvagedMark);
    return true;
  }

  /** Stages the head's header and units mark at the start of scratch; returns the bytes staged. */
  private stageHeader(): number {
    const h = this.header;
    const b = this.ctx.scratch;
    h.ringId = this.ringId;
    h.sectorSeq = this.sectorSeqs[this.head]!;
    h.firstSeq = this.firstSeqs[this.head]!;
    h.syncPoint = this.sync;
    encodeSectorHeader(b, 0, h);
    const mark = SECTOR_HEADER_BYTES;
    b[mark] = FRAME_UNITS;
    b[mark + 1] = 0;
    putU16(b, mark + 2, 0);
    putU32(b, mark + 4, this.firstUnits[this.head]!);
    return sealFrame(b, mark, mark + FRAME_HEAD_BYTES);
  }

  /** Makes the sector after the head the new (empty) head; erases first if needed. */
  private openNextSector(): void {
    const n = this.sectorCount;
    // Stryker disable next-line ConditionalExpression: with no head, (head + 1) % n is 0 as well
    const target = this.head < 0 ? 0 : (this.head + 1) % n;
    if (this.state[target] === LIVE) this.dropTail();
    else if (this.state[target] === DIRTY) this.makeClean(target);
    this.previousHead = this.head;
    this.state[target] = LIVE;
    this.sectorSeqs[target] = ++this.lastSectorSeq;
    this.firstSeqs[target] = this.nextSeq;
    this.firstUnits[target] = this.nextUnit;
    this.corruptSeen[target] = 0;
    this.head = target;
    if (this.tail < 0) this.tail = target;
    this.headOffset = SECTOR_PREFIX_BYTES;
    this.headerStaged = true;
  }

  /** The ring is full: erase its oldest sector and count what was not yet acknowledged. Returns 1 (one erase). */
  private dropTail(): number {
    const n = this.sectorCount;
    const t = this.tail;
    const next = (t + 1) % n;
    // Stryker disable next-line ConditionalExpression: unreachable: dropTail never erases the head (its callers start at head + 1)
    const end = t === this.head ? this.nextSeq : this.firstSeqs[next]!;
    const floor = Math.max(this.readFloor(), this.acking);
    const first = this.firstSeqs[t]!;
    const lost = end - 1 - Math.max(floor, first - 1);
    const unacked = end - 1 - Math.max(this.readFloor(), first - 1);
    // Records a sync point being written acknowledges are not dropped, unless that write fails.
    if (unacked > 0) this.excused += unacked - Math.max(0, lost);
    if (lost > 0) {
      this.droppedCount += lost;
      if (!this.dropWarned) {
        this.dropWarned = true;
        this.ctx.log.warn(`storage: ring "${this.key}" is full; overwriting its oldest unsynced records`);
      }
    }
    // The records go whether or not the erase works (a failed erase may have
    // damaged them): the sector leaves the run and, if the erase fails, stays
    // DIRTY, to be erased again before it is used.
    this.state[t] = DIRTY;
    // Stryker disable next-line ConditionalExpression,UnaryOperator: unreachable: dropTail never erases the head (its callers start at head + 1)
    this.tail = t === this.head ? -1 : next;
    this.erase(t);
    this.state[t] = CLEAN;
    return 1;
  }

  /**
   * A sector of unknown contents becomes usable. It is erased even when it
   * reads all 0xFF: after an interrupted erase, cells can read erased while
   * only weakly erased, and programming them would not hold. Returns 1 (one erase).
   */
  private makeClean(sector: number): number {
    this.erase(sector);
    this.state[sector] = CLEAN;
    return 1;
  }

  /** Erases one of the ring's sectors; a failure is counted and logged, then thrown (the RAM state is left as it was). */
  private erase(sector: number): void {
    this.version++;
    try {
      this.ctx.flash.eraseSector(this.firstSector + sector);
    } catch (error) {
      this.flashErrorCount++;
      this.ctx.log.error(
        `storage: ring "${this.key}": erase of sector ${this.firstSector + sector} failed (${(error as Error)?.message ?? error})`,
      );
      throw error;
    }
  }

  /** Appends a sync frame; false when its program failed (the head is then sealed). */
  private writeSync(value: number): boolean {
    const S = this.ctx.sectorSize;
    if (this.head < 0 || this.headOffset + FRAME_OVERHEAD_BYTES > S) this.openNextSector();
    const b = this.ctx.scratch;
    let w = 0;
    let writeAt = this.headOffset;
    if (this.headerStaged) {
      w = this.stageHeader();
      writeAt = 0;
    }
    b[w] = FRAME_SYNC;
    b[w + 1] = 0;
    putU16(b, w + 2, 0);
    putU32(b, w + 4, value);
    w = sealFrame(b, w, w + FRAME_HEAD_BYTES);
    if (this.program(writeAt, w, "sync point") >= 0) return false;
    this.headerStaged = false;
    this.headOffset = writeAt + w;
    return true;
  }

  /**
   * Programs the staged bytes `scratch[0, w)` at `writeAt` in the head sector.
   * Returns -1 when they are on flash. When the driver reports a failure, the
   * bytes are read back: all of them intact counts as done (-1); otherwise the
   * head is sealed (its half-written bytes are never programmed over) and the
   * result is how many records of the batch frames before the first damaged
   * one reached flash whole (0 if the new sector's header did not). A damaged
   * frame never passes its CRC, so the numbers of its records may be given to
   * the copy written next, as after a torn write. A failed read-back (the chip
   * is gone) rethrows the program's error.
   */
  private program(writeAt: number, w: number, what: string): number {
    this.version++;
    const b = this.ctx.scratch;
    const address = this.base(this.head) + writeAt;
    try {
      this.ctx.flash.write(address, b.subarray(0, w));
      return -1;
    } catch (error) {
      this.flashErrorCount++;
      this.lastFlashError = error;
      const back = new Uint8Array(w);
      try {
        this.ctx.flash.read(address, back);
      } catch {
        this.programFailed(error, what, false);
        throw error;
      }
      let p = 0;
      let records = 0;
      let headerOk = true;
      if (this.headerStaged) {
        headerOk = sameBytes(back, b, 0, SECTOR_HEADER_BYTES);
        p = SECTOR_HEADER_BYTES;
      }
      // Stryker disable next-line EqualityOperator: `p <= w` only compares once more at p === w, past the end of `back` (undefined), and stops
      while (headerOk && p < w) {
        const end = p + FRAME_OVERHEAD_BYTES + getU16(b, p + 2);
        if (!sameBytes(back, b, p, end)) break;
        // Stryker disable next-line ConditionalExpression: `true` also adds the count byte of units marks and sync frames, which is 0
        if (b[p] === FRAME_BATCH) records += b[p + 1]!;
        p = end;
      }
      if (p >= w) {
        this.ctx.log.warn(
          `storage: ring "${this.key}": ${what} program reported a failure (${(error as Error)?.message ?? error}) but reads back intact`,
        );
        return -1;
      }
      this.programFailed(error, what, headerOk);
      return records;
    }
  }

  /**
   * After a failed program: nothing more goes into the head sector (its
   * half-written bytes are never programmed over). If the program carried a
   * new sector's header that did not reach flash whole, the sector leaves the
   * run (DIRTY: erased before use) and the head goes back to the previous
   * one, so the next sector opened is that same one again: the live run never
   * gets a hole that would hide older sectors from open.
   */
  private programFailed(error: unknown, what: string, headerOk: boolean): void {
    if (this.headerStaged) {
      // Stryker disable next-line BooleanLiteral: the head is sealed (headOffset = sectorSize) or reverted, so the next write opens a sector, which stages its header again anyway
      this.headerStaged = false;
      if (!headerOk) {
        const failed = this.head;
        this.state[failed] = DIRTY;
        this.head = this.previousHead;
        // Stryker disable next-line ConditionalExpression,LogicalOperator: the failed sector was the tail exactly when it was the ring's first (previousHead -1): either test alone decides
        if (this.tail === failed || this.head < 0) this.tail = -1;
      }
    }
    this.headOffset = this.ctx.sectorSize;
    this.ctx.log.error(
      `storage: ring "${this.key}": ${what} program failed (${(error as Error)?.message ?? error}); its sector is sealed, the next write opens a fresh one`,
    );
  }
}

/** Whether `b[from, to)` holds a byte other than erased (0xFF). */
function notErased(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) if (b[i] !== ERASED) return true;
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
