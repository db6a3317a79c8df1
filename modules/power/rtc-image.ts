/*
 * What capsync keeps in the ESP32's RTC slow memory between deep sleeps: the
 * battery-mode schedule and the small batches of readings taken on capture
 * wakes, so that a wake costs no flash program and no erase. RTC slow memory
 * keeps its contents through deep sleep (and through software and watchdog
 * resets), and loses them at power-on and brownout.
 *
 * Layout (little-endian, at most RTC_IMAGE_BYTES; documented in docs/power.md). An
 * image is as long as the bytes it uses: a wake copies and saves the header,
 * the slots and the records it holds, not the whole 4 KB area.
 *
 *    0 u32 magic 0x54525343 ("CSRT")
 *    4 u32 CRC-32 (IEEE) of bytes [8, 68 + 12 × slots): header and slots
 *    8 u16 version (1)
 *   10 u16 used: bytes of the image in use (header + slots + records)
 *   12 u32 seq: saves since the run began
 *   16 u32 runId: the boot id (capture's boot timeline) the run's readings carry
 *   20 f64 runStartRtcMs: RTC ms at the start of the run (run time = RTC − this)
 *   28 f64 wallOffsetMs: wall − run time, NaN until the clock was set
 *   36 f64 nextSyncMs: run time of the next sync wake (+Infinity: none)
 *   44 u32 scheduleHash: which collector set the slots belong to
 *   48 u16 syncFailures: failed sync wakes in a row
 *   50 u8  slot count
 *   51 u8  flags: bit 0 a ring passed the fill threshold (sync at the next wake)
 *   52 u32 wakes   56 u32 missed deadlines   60 u32 overruns   64 u32 readings dropped (RTC full)
 *   68 slots, 12 bytes each: f64 originMs, u32 index (deadline k = origin + k × period)
 *   .. records: u8 slot, u16 length, u32 CRC-32 of the bytes, that many bytes (a sealed capture block)
 *
 * The header CRC makes power-on garbage, a reset in the middle of a save, or
 * a bit flip in the header read as "no image": the wake is then treated as a
 * reboot. Each record carries its own CRC, checked when the record leaves RTC
 * memory for flash (a bad one is dropped and counted): a capture wake then
 * computes a CRC over its new reading only, not over the whole image.
 */
import { crc32 } from "../storage/crc32";

export const RTC_IMAGE_BYTES = 4096;
export const RTC_MAGIC = 0x54525343;
export const RTC_VERSION = 1;
export const RTC_HEADER_BYTES = 68;
export const RTC_SLOT_BYTES = 12;
export const RTC_RECORD_HEADER = 7;
export const FLAG_FILL_HIGH = 1;

export interface RtcSlot {
  originMs: number;
  index: number;
}

export interface RtcRecord {
  slot: number;
  bytes: Uint8Array;
  /** CRC-32 of `bytes` as stored (computed when the record was made). */
  crc: number;
}

/** A record for `bytes` (its CRC computed now). */
export function rtcRecord(slot: number, bytes: Uint8Array): RtcRecord {
  return { slot, bytes, crc: crc32(bytes) };
}

/** Whether a record's bytes still match its CRC. */
export function rtcRecordIntact(record: RtcRecord): boolean {
  return crc32(record.bytes) === record.crc;
}

export interface RtcState {
  seq: number;
  runId: number;
  runStartRtcMs: number;
  wallOffsetMs: number;
  nextSyncMs: number;
  scheduleHash: number;
  syncFailures: number;
  fillHigh: boolean;
  wakes: number;
  missed: number;
  overruns: number;
  dropped: number;
  slots: RtcSlot[];
  records: RtcRecord[];
}

export function emptyRtcState(runId: number, runStartRtcMs: number): RtcState {
  return {
    seq: 0,
    runId,
    runStartRtcMs,
    wallOffsetMs: Number.NaN,
    nextSyncMs: Number.POSITIVE_INFINITY,
    scheduleHash: 0,
    syncFailures: 0,
    fillHigh: false,
    wakes: 0,
    missed: 0,
    overruns: 0,
    dropped: 0,
    slots: [],
    records: [],
  };
}

/** Bytes of the record area for `slots` slots. */
export function rtcRecordCapacity(slots: number): number {
  return RTC_IMAGE_BYTES - RTC_HEADER_BYTES - slots * RTC_SLOT_BYTES;
}

/** Bytes the records take in the image. */
export function rtcRecordBytes(records: readonly RtcRecord[]): number {
  let n = 0;
  for (const r of records) n += RTC_RECORD_HEADER + r.bytes.length;
  return n;
}

/** Encode `state` into a new buffer of the bytes it uses (≤ RTC_IMAGE_BYTES). Throws when the records do not fit (a caller bug). */
export function encodeRtcImage(state: RtcState): Uint8Array {
  const slots = state.slots.length;
  if (slots > 255) throw new RangeError("RTC image: more than 255 slots");
  const used = RTC_HEADER_BYTES + slots * RTC_SLOT_BYTES + rtcRecordBytes(state.records);
  if (used > RTC_IMAGE_BYTES) throw new RangeError(`RTC image: ${used} bytes do not fit ${RTC_IMAGE_BYTES}`);
  const out = new Uint8Array(used);
  const v = new DataView(out.buffer);
  v.setUint32(0, RTC_MAGIC, true);
  v.setUint16(8, RTC_VERSION, true);
  v.setUint16(10, used, true);
  v.setUint32(12, state.seq >>> 0, true);
  v.setUint32(16, state.runId >>> 0, true);
  v.setFloat64(20, state.runStartRtcMs, true);
  v.setFloat64(28, state.wallOffsetMs, true);
  v.setFloat64(36, state.nextSyncMs, true);
  v.setUint32(44, state.scheduleHash >>> 0, true);
  v.setUint16(48, Math.min(0xffff, state.syncFailures), true);
  out[50] = slots;
  out[51] = state.fillHigh ? FLAG_FILL_HIGH : 0;
  v.setUint32(52, state.wakes >>> 0, true);
  v.setUint32(56, state.missed >>> 0, true);
  v.setUint32(60, state.overruns >>> 0, true);
  v.setUint32(64, state.dropped >>> 0, true);
  let pos = RTC_HEADER_BYTES;
  for (const s of state.slots) {
    v.setFloat64(pos, s.originMs, true);
    v.setUint32(pos + 8, s.index >>> 0, true);
    pos += RTC_SLOT_BYTES;
  }
  for (const r of state.records) {
    if (r.bytes.length > 0xffff) throw new RangeError("RTC image: record longer than 65535 bytes");
    out[pos] = r.slot;
    v.setUint16(pos + 1, r.bytes.length, true);
    v.setUint32(pos + 3, r.crc >>> 0, true);
    out.set(r.bytes, pos + RTC_RECORD_HEADER);
    pos += RTC_RECORD_HEADER + r.bytes.length;
  }
  v.setUint32(4, crc32(out, 8, RTC_HEADER_BYTES + slots * RTC_SLOT_BYTES), true);
  return out;
}

export type RtcDecoded = { ok: true; state: RtcState } | { ok: false; reason: string };

/** Decode an image read back from RTC memory; never throws. */
export function decodeRtcImage(bytes: Uint8Array | undefined): RtcDecoded {
  if (!bytes || bytes.length < RTC_HEADER_BYTES) return { ok: false, reason: "no RTC image" };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== RTC_MAGIC) return { ok: false, reason: "no RTC image (magic absent)" };
  const version = v.getUint16(8, true);
  if (version !== RTC_VERSION)
    return { ok: false, reason: `RTC image version ${version} is not ${RTC_VERSION}` };
  const used = v.getUint16(10, true);
  if (used < RTC_HEADER_BYTES || used > bytes.length || used > RTC_IMAGE_BYTES)
    return { ok: false, reason: `RTC image length ${used} is out of range` };
  const slotCount = bytes[50]!;
  const slotsEnd = RTC_HEADER_BYTES + slotCount * RTC_SLOT_BYTES;
  if (slotsEnd > used) return { ok: false, reason: "RTC image slots overrun its length" };
  if (crc32(bytes, 8, slotsEnd) !== v.getUint32(4, true))
    return { ok: false, reason: "RTC image CRC mismatch" };
  const state: RtcState = {
    seq: v.getUint32(12, true),
    runId: v.getUint32(16, true),
    runStartRtcMs: v.getFloat64(20, true),
    wallOffsetMs: v.getFloat64(28, true),
    nextSyncMs: v.getFloat64(36, true),
    scheduleHash: v.getUint32(44, true),
    syncFailures: v.getUint16(48, true),
    fillHigh: (bytes[51]! & FLAG_FILL_HIGH) !== 0,
    wakes: v.getUint32(52, true),
    missed: v.getUint32(56, true),
    overruns: v.getUint32(60, true),
    dropped: v.getUint32(64, true),
    slots: [],
    records: [],
  };
  if (!Number.isFinite(state.runStartRtcMs))
    return { ok: false, reason: "RTC image run start is not a number" };
  let pos = RTC_HEADER_BYTES;
  if (pos + slotCount * RTC_SLOT_BYTES > used)
    return { ok: false, reason: "RTC image slots overrun its length" };
  for (let i = 0; i < slotCount; i++) {
    state.slots.push({ originMs: v.getFloat64(pos, true), index: v.getUint32(pos + 8, true) });
    pos += RTC_SLOT_BYTES;
  }
  while (pos < used) {
    if (pos + RTC_RECORD_HEADER > used) return { ok: false, reason: "RTC image record header overruns" };
    const slot = bytes[pos]!;
    const length = v.getUint16(pos + 1, true);
    const start = pos + RTC_RECORD_HEADER;
    if (start + length > used) return { ok: false, reason: "RTC image record overruns" };
    // A record's own bytes are checked against its CRC when it leaves RTC memory (rtcRecordIntact).
    if (slot >= slotCount) return { ok: false, reason: `RTC image record for slot ${slot} of ${slotCount}` };
    state.records.push({ slot, bytes: bytes.slice(start, start + length), crc: v.getUint32(pos + 3, true) });
    pos = start + length;
  }
  return { ok: true, state };
}
