// Writes ring sectors byte by byte (ring-format.ts's encoders, FORMAT.md's
// layout) so tests can open a store on images its writer would produce only
// through rare histories (format-1.0 sectors without a units mark, a sync
// frame that fills a sector exactly) or never (two sectors with one sector
// sequence). Not a test file: the storage-mutants-*.test.ts files import it.

import type { RingPlacement } from "../../modules/storage/flash-ring";
import type { NorImage } from "../../modules/storage/nor-image";
import {
  encodeSectorHeader,
  FRAME_BATCH,
  FRAME_HEAD_BYTES,
  FRAME_SYNC,
  FRAME_UNITS,
  putLength,
  putU16,
  putU32,
  SECTOR_HEADER_BYTES,
  sealFrame,
} from "../../modules/storage/ring-format";

export type CraftedFrame = { records: Uint8Array[] } | { sync: number };

export interface CraftedSector {
  /** Index of the sector in the ring (0 .. sectors-1). */
  index: number;
  sectorSeq: number;
  firstSeq: number;
  syncPoint?: number;
  /** The units mark's value; omitted: no mark (a format-1.0 sector). */
  mark?: number;
  frames?: CraftedFrame[];
  ringId?: number;
}

const TWO_POW_32 = 4294967296;

/** Erases the sector and programs the crafted one; returns the bytes programmed. */
export function craftSector(flash: NorImage, ring: RingPlacement, spec: CraftedSector): number {
  const S = flash.sectorSize;
  const b = new Uint8Array(S).fill(0xff);
  encodeSectorHeader(b, 0, {
    ringId: spec.ringId ?? ring.ringId,
    sectorSeq: spec.sectorSeq,
    firstSeq: spec.firstSeq,
    syncPoint: spec.syncPoint ?? 0,
  });
  let p = SECTOR_HEADER_BYTES;
  const small = (kind: number, value: number) => {
    b[p] = kind;
    b[p + 1] = 0;
    putU16(b, p + 2, 0);
    putU32(b, p + 4, value % TWO_POW_32);
    p = sealFrame(b, p, p + FRAME_HEAD_BYTES);
  };
  if (spec.mark !== undefined) small(FRAME_UNITS, spec.mark);
  let seq = spec.firstSeq;
  for (const f of spec.frames ?? []) {
    if ("sync" in f) {
      small(FRAME_SYNC, f.sync);
      continue;
    }
    const frame = p;
    b[frame] = FRAME_BATCH;
    b[frame + 1] = f.records.length;
    putU32(b, frame + 4, seq % TWO_POW_32);
    let q = frame + FRAME_HEAD_BYTES;
    for (const r of f.records) q = putLength(b, q, r.length);
    for (const r of f.records) {
      b.set(r, q);
      q += r.length;
    }
    putU16(b, frame + 2, q - frame - FRAME_HEAD_BYTES);
    p = sealFrame(b, frame, q);
    seq += f.records.length;
  }
  if (p > S) throw new Error(`crafted sector of ${p} bytes exceeds ${S}`);
  flash.eraseSector(ring.firstSector + spec.index);
  flash.write((ring.firstSector + spec.index) * S, b.subarray(0, p));
  return p;
}

/** `count` records of `size` bytes; record i's first byte is `units(i)` (what it counts for), the rest names it. */
export function unitRecords(first: number, count: number, size: number, units: (seq: number) => number) {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const seq = first + i;
    const r = new Uint8Array(size).fill(seq & 0xff);
    r[0] = units(seq);
    if (size > 1) r[1] = (seq >>> 8) & 0xff;
    out.push(r);
  }
  return out;
}

/** recordUnits for unitRecords: the first byte. */
export const firstByteUnits = (b: Uint8Array, start: number, end: number): number =>
  end > start ? b[start]! : 1;
