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

/** Frame header: kind, count, body length, sequence low 32 bits, CRC. */
export const FRAME_HEADER_BYTES = 12;
/** A batch of records: `count` × (LEB128 length, payload). */
export const FRAME_BATCH = 0xb1;
/** A sync point: everything up to and including `seq` is done with (acknowledged or discarded). */
export const FRAME_SYNC = 0x5c;
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
  // A sector opens after its ring's sync point: a header saying otherwise is not one we wrote.
  return out.firstSeq >= 1 && out.syncPoint < out.firstSeq;
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
