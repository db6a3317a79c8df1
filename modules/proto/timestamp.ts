/*
 * google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; } from and to
 * epoch milliseconds. Zero fields are omitted (proto3), but the message itself
 * is always written: an epoch-0 timestamp is an empty message, not an absent one.
 */

import type { ProtoReader } from "./reader";
import { type ProtoWriter, putVarint32, varint32Size, WIRE_VARINT } from "./writer";

/** Write a Timestamp for `epochMs` (may be fractional: sub-ms precision is kept in nanos) as field `field`. */
export function writeTimestamp(w: ProtoWriter, field: number, epochMs: number): void {
  const seconds = Math.floor(epochMs / 1000);
  let nanos = Math.round((epochMs - seconds * 1000) * 1000000);
  if (nanos > 999999999) nanos = 999999999;
  if (seconds >= 0 && seconds <= 0xffffffff && field < 16) {
    // Every reading carries two of these: straight-line writes into reserved room.
    const length =
      (seconds === 0 ? 0 : 1 + varint32Size(seconds)) + (nanos === 0 ? 0 : 1 + varint32Size(nanos));
    const buf = w.reserve(14);
    let pos = w.pos;
    buf[pos++] = field * 8 + 2;
    buf[pos++] = length;
    if (seconds !== 0) {
      buf[pos++] = 0x08;
      pos = putVarint32(buf, pos, seconds);
    }
    if (nanos !== 0) {
      buf[pos++] = 0x10;
      pos = putVarint32(buf, pos, nanos);
    }
    w.pos = pos;
    return;
  }
  w.tag(field, 2);
  let length = 0;
  if (seconds !== 0) length += 1 + (seconds < 0 ? 10 : varintSize(seconds));
  if (nanos !== 0) length += 1 + varintSize(nanos);
  // The length is known up front, so no begin/end gap to close.
  w.varint(length);
  if (seconds !== 0) w.uint(1, seconds);
  if (nanos !== 0) w.uint(2, nanos);
}

/** Bytes of a Timestamp field (tag + length + body) for `epochMs`, as `writeTimestamp` writes it. */
export function timestampFieldSize(field: number, epochMs: number): number {
  const seconds = Math.floor(epochMs / 1000);
  let nanos = Math.round((epochMs - seconds * 1000) * 1000000);
  if (nanos > 999999999) nanos = 999999999;
  let length = 0;
  if (seconds !== 0) length += 1 + (seconds < 0 ? 10 : varintSize(seconds));
  if (nanos !== 0) length += 1 + varintSize(nanos);
  return varintSize(field * 8 + 2) + 1 + length;
}

/** Read a Timestamp body (from r.pos to r.end) as epoch milliseconds (fractional when nanos are not whole ms). */
export function readTimestampMs(r: ProtoReader): number {
  let seconds = 0;
  let nanos = 0;
  while (r.more()) {
    const f = r.tag();
    if (f === 1) {
      r.expect(WIRE_VARINT);
      seconds = r.int64();
    } else if (f === 2) {
      r.expect(WIRE_VARINT);
      nanos = r.int64();
    } else r.skip();
  }
  return seconds * 1000 + nanos / 1000000;
}

/** Bytes a non-negative integer takes as a varint. */
export function varintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}
