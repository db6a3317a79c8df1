// The layout record's codec at its edges: keys with astral characters, NUL
// and lone surrogates round-trip byte for byte; an empty key at the very end
// of the ring table decodes; a ring table or key that runs into the CRC is
// refused with its reason, even when the CRC itself is valid.

import { crc32 } from "../../modules/storage/crc32";
import {
  decodeLayoutRecord,
  encodeLayoutRecord,
  type LayoutRecord,
  layoutRecordBytes,
  utf8Decode,
  utf8Encode,
} from "../../modules/storage/layout-record";
import { putU32 } from "../../modules/storage/ring-format";
import { assert, test } from "../harness/index";

function record(keys: string[]): LayoutRecord {
  return {
    generation: 3,
    sectorSize: 4096,
    sectorCount: 64,
    nextRingId: 10,
    rings: keys.map((key, i) => ({ key, ringId: i + 1, firstSector: 2 + 4 * i, sectors: 4 })),
  };
}

/** Re-seals a record's CRC after a test patched its bytes. */
function reseal(b: Uint8Array): Uint8Array {
  const length = b[6]! | (b[7]! << 8);
  putU32(b, length - 4, crc32(b, 0, length - 4));
  return b;
}

test("keys with astral characters, NUL and lone surrogates encode as UTF-8 and decode back to themselves", () => {
  assert.deepEqual(Array.from(utf8Encode("😀")), [0xf0, 0x9f, 0x98, 0x80]);
  assert.deepEqual(Array.from(utf8Encode("a\u0000b")), [0x61, 0x00, 0x62]);
  assert.deepEqual(Array.from(utf8Encode("é€")), [0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  // A lone low surrogate is never paired with the next code unit, even another low surrogate.
  assert.deepEqual(Array.from(utf8Encode("\udc00\udc00")), [0xed, 0xb0, 0x80, 0xed, 0xb0, 0x80]);
  // A high surrogate at the very end stays alone.
  assert.deepEqual(Array.from(utf8Encode("x\ud83d")), [0x78, 0xed, 0xa0, 0xbd]);
  for (const key of [
    "😀/sensor",
    "a\u0000b",
    "\udc00\udc00",
    "\udbff\udfff",
    "\ud800",
    "x\ud83d",
    "é€😀\u0080\u07ff\u0800\uffff",
  ]) {
    const bytes = utf8Encode(key);
    assert.equal(utf8Decode(bytes, 0, bytes.length), key, JSON.stringify(key));
  }
});

test("every record the encoder writes decodes to itself, an empty last key included", () => {
  for (const keys of [[], [""], ["a", ""], ["sensor/😀/Readings", "x".repeat(255)]]) {
    const r = record(keys);
    const bytes = encodeLayoutRecord(r);
    assert.equal(bytes.length, layoutRecordBytes(r.rings));
    const d = decodeLayoutRecord(bytes);
    assert.ok(d.ok, `${JSON.stringify(keys)}: ${d.ok ? "" : d.why}`);
    if (d.ok) assert.deepEqual(d.record, r);
  }
});

test("a CRC-valid record whose ring table runs into its CRC is refused as such", () => {
  const b = encodeLayoutRecord(record(["a", "b"]));
  b[24] = 3; // three rings claimed, two present: the third's fixed part would start at the CRC
  let d = decodeLayoutRecord(reseal(b));
  assert.ok(!d.ok);
  if (!d.ok) assert.equal(d.why, "layout ring table overruns");
  // Three rings claimed; the second's key shortened to 0 bytes, so the third's fixed part starts 7 bytes
  // before the CRC: its 9 bytes would take 2 of the CRC's.
  const c = encodeLayoutRecord(record(["a", "bcdefgh"]));
  c[24] = 3;
  c[28 + 10 + 8] = 0;
  d = decodeLayoutRecord(reseal(c));
  assert.ok(!d.ok);
  if (!d.ok) assert.equal(d.why, "layout ring table overruns");
});

test("a CRC-valid record whose last key runs into its CRC is refused as such", () => {
  for (const extra of [1, 4, 9, 20]) {
    const b = encodeLayoutRecord(record(["a", "bcd"]));
    const second = 28 + 9 + 1; // where the second ring starts (its key length is byte 8)
    b[second + 8] = 3 + extra;
    const d = decodeLayoutRecord(reseal(b));
    assert.ok(!d.ok, `${extra} bytes too long`);
    if (!d.ok) assert.equal(d.why, "layout key overruns");
  }
});
