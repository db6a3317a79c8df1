/*
 * The layout record: which ring (collector key) owns which sectors. Kept in
 * the partition's first two sectors, alternately (A/B): a new record goes to
 * the slot not holding the current one, so a cut while writing it leaves the
 * previous record intact and a reboot finds the same rings. The higher
 * generation among intact records wins.
 */
import { crc32 } from "./crc32";
import { getU16, getU32, putU16, putU32 } from "./ring-format";

export const LAYOUT_SLOTS = 2;
const MAGIC = [0x43, 0x53, 0x4c, 0x59]; // "CSLY"
const VERSION = 1;
const FIXED_BYTES = 28;
/** The fixed part of a layout record, before its ring table (what open reads first). */
export const LAYOUT_FIXED_BYTES = FIXED_BYTES;
const RING_FIXED_BYTES = 9;
const CRC_BYTES = 4;
export const MAX_KEY_BYTES = 255;

export interface StoredRing {
  key: string;
  ringId: number;
  firstSector: number;
  sectors: number;
}

export interface LayoutRecord {
  generation: number;
  sectorSize: number;
  sectorCount: number;
  /** Never reused, so sectors left by an old ring never pass as a new ring's. */
  nextRingId: number;
  rings: StoredRing[];
}

/** UTF-8 by hand: the core may not rely on TextEncoder existing on the device. */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    // Past the end charCodeAt gives NaN, which is no low surrogate: no length test needed.
    if (c >= 0xd800 && c < 0xdc00) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

export function utf8Decode(b: Uint8Array, start: number, end: number): string {
  let s = "";
  let i = start;
  while (i < end) {
    const c = b[i++]!;
    let cp: number;
    if (c < 0x80) cp = c;
    else if (c < 0xe0) cp = ((c & 0x1f) << 6) | (b[i++]! & 0x3f);
    else if (c < 0xf0) cp = ((c & 0x0f) << 12) | ((b[i++]! & 0x3f) << 6) | (b[i++]! & 0x3f);
    else cp = ((c & 0x07) << 18) | ((b[i++]! & 0x3f) << 12) | ((b[i++]! & 0x3f) << 6) | (b[i++]! & 0x3f);
    // A foreign writer's CRC-valid bytes may still be invalid UTF-8: never throw on them.
    // cp is never negative (masked bytes shifted left at most 18 bits), only too large.
    s += String.fromCodePoint(cp <= 0x10ffff ? cp : 0xfffd);
  }
  return s;
}

export function layoutRecordBytes(rings: readonly StoredRing[]): number {
  let n = FIXED_BYTES + CRC_BYTES;
  for (const r of rings) n += RING_FIXED_BYTES + utf8Encode(r.key).length;
  return n;
}

export function encodeLayoutRecord(record: LayoutRecord): Uint8Array {
  const keys = record.rings.map((r) => utf8Encode(r.key));
  let length = FIXED_BYTES + CRC_BYTES;
  for (const k of keys) length += RING_FIXED_BYTES + k.length;
  const b = new Uint8Array(length);
  b.set(MAGIC, 0);
  putU16(b, 4, VERSION);
  putU16(b, 6, length);
  putU32(b, 8, record.generation);
  putU32(b, 12, record.sectorSize);
  putU32(b, 16, record.sectorCount);
  putU32(b, 20, record.nextRingId);
  putU16(b, 24, record.rings.length);
  putU16(b, 26, 0);
  let p = FIXED_BYTES;
  record.rings.forEach((r, i) => {
    const key = keys[i]!;
    putU32(b, p, r.ringId);
    putU16(b, p + 4, r.firstSector);
    putU16(b, p + 6, r.sectors);
    b[p + 8] = key.length;
    b.set(key, p + RING_FIXED_BYTES);
    p += RING_FIXED_BYTES + key.length;
  });
  putU32(b, p, crc32(b, 0, p));
  return b;
}

export type LayoutDecode = { ok: true; record: LayoutRecord } | { ok: false; blank: boolean; why: string };

/** Reads a slot's bytes (a whole sector) and says what it holds. Never throws on bad bytes. */
export function decodeLayoutRecord(b: Uint8Array): LayoutDecode {
  let blank = true;
  for (let i = 0; i < FIXED_BYTES && i < b.length; i++) {
    if (b[i] !== 0xff) {
      blank = false;
      break;
    }
  }
  if (blank) return { ok: false, blank: true, why: "erased" };
  for (let i = 0; i < 4; i++)
    if (b[i] !== MAGIC[i]) return { ok: false, blank: false, why: "no layout magic" };
  if (getU16(b, 4) !== VERSION)
    return { ok: false, blank: false, why: `unknown layout version ${getU16(b, 4)}` };
  const length = getU16(b, 6);
  if (length < FIXED_BYTES + CRC_BYTES || length > b.length) {
    return { ok: false, blank: false, why: `bad layout length ${length}` };
  }
  if (getU32(b, length - CRC_BYTES) !== crc32(b, 0, length - CRC_BYTES)) {
    return { ok: false, blank: false, why: "layout CRC mismatch" };
  }
  const count = getU16(b, 24);
  const rings: StoredRing[] = [];
  let p = FIXED_BYTES;
  for (let i = 0; i < count; i++) {
    if (p + RING_FIXED_BYTES > length - CRC_BYTES)
      return { ok: false, blank: false, why: "layout ring table overruns" };
    const keyLength = b[p + 8]!;
    if (p + RING_FIXED_BYTES + keyLength > length - CRC_BYTES) {
      return { ok: false, blank: false, why: "layout key overruns" };
    }
    rings.push({
      ringId: getU32(b, p),
      firstSector: getU16(b, p + 4),
      sectors: getU16(b, p + 6),
      key: utf8Decode(b, p + RING_FIXED_BYTES, p + RING_FIXED_BYTES + keyLength),
    });
    p += RING_FIXED_BYTES + keyLength;
  }
  return {
    ok: true,
    record: {
      generation: getU32(b, 8),
      sectorSize: getU32(b, 12),
      sectorCount: getU32(b, 16),
      nextRingId: getU32(b, 20),
      rings,
    },
  };
}
