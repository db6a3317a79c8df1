/*
 * Byte layout of ring sectors: the sector header and the frames after it.
 * FORMAT.md (next to this file) describes every byte and why a power cut at
 * any point leaves something this code either accepts whole or rejects.
 * All integers are little-endian.
 */
import { crc32 } from "./crc32";

/** Sector header: written in the same program operation as the sector's first frame. */
export const SECTOR_HEADER_BYTES = 28;
export const SECTOR_MAGIC_0 = 0x52; // "R"
export const SECTOR_MAGIC_1 = 0x47; // "G"
export const FORMAT_VERSION = 1;

/** Frame head: kind, count, body length, sequence low 32 bits. */
export const FRAME_HEAD_BYTES = 8;
/** Frame trailer: CRC of the head and the body. */
export const FRAME_CRC_BYTES = 4;
/** Framing bytes per frame, besides the record lengths. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEAD_BYTES + FRAME_CRC_BYTES;
/** A batch of records: `count` × (LEB128 length, payload). */
export const FRAME_BATCH = 0xb1;
/** A sync point: everything up to and including `seq` is done with (acknowledged or discarded). */
export const FRAME_SYNC = 0x5c;
/**
 * A units mark: the first frame of every sector opened since format version
 * 1.1, written in the same program as the header. Its sequence field holds
 * the low 32 bits of the ring's running count of record units (readings,
 * for capture's blocks) before the sector's first record, so open learns how
 * many units every sector holds from 40 bytes per sector.
 */
export const FRAME_UNITS = 0x55;
/** Header plus units mark: what open reads of every sector but the head. */
export const SECTOR_PREFIX_BYTES = SECTOR_HEADER_BYTES + FRAME_HEAD_BYTES + 4;
/** Where nothing was ever programmed. */
export const ERASED = 0xff;
/** The count field is one byte. */
export const MAX_RECORDS_PER_FRAME = 255;

const TWO_POW_32 = 4294967296;

export interface SectorHeader {
  ringId: number;
  sectorSeq: number;
  /** Sequence number of the sector's first record (the ring's next sequence when it was opened). */
  firstSeq: number;
  /** The ring's sync point when the sector was opened. */
  syncPoint: number;
}

export function putU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** 48-bit unsigned (sequence numbers): low 32 bits then high 16. */
export function putU48(b: Uint8Array, at: number, v: number): void {
  putU32(b, at, v % TWO_POW_32);
  putU16(b, at + 4, Math.floor(v / TWO_POW_32));
}

export function getU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

export function getU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function getU48(b: Uint8Array, at: number): number {
  return getU32(b, at) + getU16(b, at + 4) * TWO_POW_32;
}

/**
 * Rebuilds a full sequence number from its low 32 bits, knowing it is at or
 * after `base` and less than 2^32 beyond it (a sector never spans more).
 */
export function seqFromLow(base: number, low: number): number {
  const baseLow = base % TWO_POW_32;
  return base + ((low - baseLow + TWO_POW_32) % TWO_POW_32);
}

/** The largest sequence number ≤ `top` whose low 32 bits are `low` (sync frames). */
export function seqAtOrBelow(top: number, low: number): number {
  const topLow = top % TWO_POW_32;
  return top - ((topLow - low + TWO_POW_32) % TWO_POW_32);
}

export function encodeSectorHeader(b: Uint8Array, at: number, h: SectorHeader): void {
  b[at] = SECTOR_MAGIC_0;
  b[at + 1] = SECTOR_MAGIC_1;
  b[at + 2] = FORMAT_VERSION;
  b[at + 3] = SECTOR_HEADER_BYTES;
  putU32(b, at + 4, h.ringId);
  putU32(b, at + 8, h.sectorSeq);
  putU48(b, at + 12, h.firstSeq);
  putU48(b, at + 18, h.syncPoint);
  putU32(b, at + 24, crc32(b, at, at + 24));
}

/** Decodes into `out` and returns true when the header at `at` is intact. */
export function decodeSectorHeader(b: Uint8Array, at: number, out: SectorHeader): boolean {
  if (
    b[at] !== SECTOR_MAGIC_0 ||
    b[at + 1] !== SECTOR_MAGIC_1 ||
    b[at + 2] !== FORMAT_VERSION ||
    b[at + 3] !== SECTOR_HEADER_BYTES
  ) {
    return false;
  }
  if (getU32(b, at + 24) !== crc32(b, at, at + 24)) return false;
  out.ringId = getU32(b, at + 4);
  out.sectorSeq = getU32(b, at + 8);
  out.firstSeq = getU48(b, at + 12);
  out.syncPoint = getU48(b, at + 18);
  // A sector opens after its ring's sync point: a header saying otherwise is not one we wrote
  // (and its first record number is then at least 1, the sync point being unsigned).
  return out.syncPoint < out.firstSeq;
}

/** Bytes of the LEB128 encoding of a record length. */
export function lengthPrefixBytes(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
}

/** Writes a LEB128 length at `at`; returns the position after it. */
export function putLength(b: Uint8Array, at: number, length: number): number {
  let v = length;
  let p = at;
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

/** Flash bytes one record of `length` payload bytes takes inside a batch frame. */
export function recordFlashBytes(length: number): number {
  return lengthPrefixBytes(length) + length;
}

/** Decodes the LEB128 length at `at`, or -1 if it runs past 3 bytes. */
export function readLength(b: Uint8Array, at: number): number {
  let v = 0;
  let shift = 0;
  for (let p = at; p < at + 3; p++) {
    const byte = b[p]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return v;
    shift += 7;
  }
  return -1;
}

/**
 * Completes the frame whose head starts at `frame` and whose body ends at
 * `bodyEnd` (kind, count, body length and sequence already in place): writes
 * the CRC trailer and returns the offset after the frame.
 */
export function sealFrame(b: Uint8Array, frame: number, bodyEnd: number): number {
  putU32(b, bodyEnd, crc32(b, frame, bodyEnd));
  return bodyEnd + FRAME_CRC_BYTES;
}

/**
 * Checks the frame at `pos` (kind, sizes, CRC, record lengths that exactly
 * fill the body) and returns the offset after it, or -1 if anything is off.
 * Nothing from a frame — not even its length — is used unless this passed.
 */
export function checkFrame(b: Uint8Array, pos: number, limit: number): number {
  const kind = b[pos];
  const count = b[pos + 1]!;
  const bodyLength = getU16(b, pos + 2);
  const bodyEnd = pos + FRAME_HEAD_BYTES + bodyLength;
  if (bodyEnd + FRAME_CRC_BYTES > limit) return -1;
  if (kind === FRAME_SYNC || kind === FRAME_UNITS) {
    if (count !== 0 || bodyLength !== 0) return -1;
  } else if (kind !== FRAME_BATCH || count === 0) {
    return -1;
  }
  if (getU32(b, bodyEnd) !== crc32(b, pos, bodyEnd)) return -1;
  // Stryker disable next-line ConditionalExpression: `true`: sync frames and marks have count 0 and body 0 (checked above), so the batch checks pass for them
  if (kind === FRAME_BATCH) {
    // Lengths first, then the payloads: together they fill the body exactly.
    let p = pos + FRAME_HEAD_BYTES;
    let payload = 0;
    for (let r = 0; r < count; r++) {
      const length = readLength(b, p);
      if (length < 0) return -1;
      const used = lengthPrefixBytes(length);
      // Only the shortest encoding is valid: readers step by lengthPrefixBytes. A longer one has its
      // high bit set where the shortest ends (a zero byte there would make the length shorter still).
      if (used < 3 && b[p + used - 1]! >= 0x80) return -1;
      p += used;
      if (p > bodyEnd) return -1;
      payload += length;
    }
    if (p + payload !== bodyEnd) return -1;
  }
  return bodyEnd + FRAME_CRC_BYTES;
}
