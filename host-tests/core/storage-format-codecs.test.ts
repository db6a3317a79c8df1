// The storage format's small codecs, byte by byte: ring keys as UTF-8 (checked against the
// platform's TextEncoder/TextDecoder), the layout record's every rejection reason, the sector
// header's checks and the record length prefix: cases the mutation run found unguarded.

import { adoptNativeCrc32, crc32, setNativeCrc32 } from "../../modules/storage/crc32";
import {
  decodeLayoutRecord,
  encodeLayoutRecord,
  LAYOUT_FIXED_BYTES,
  type LayoutRecord,
  layoutRecordBytes,
  utf8Decode,
  utf8Encode,
} from "../../modules/storage/layout-record";
import {
  decodeSectorHeader,
  encodeSectorHeader,
  getU16,
  lengthPrefixBytes,
  putLength,
  putU16,
  putU32,
  readLength,
  SECTOR_HEADER_BYTES,
  type SectorHeader,
} from "../../modules/storage/ring-format";
import { assert, test } from "../harness/index";

const KEYS = [
  "",
  "rdk:component:sensor/temp/Readings",
  "\u007f\u0080\u07ff\u0800\uffff",
  "é ü ß ñ",
  "中文 ключ",
  "emoji 😀 🚀 \u{10ffff} \u{10000}",
];

test("ring keys: UTF-8 exactly as TextEncoder writes it; lone surrogates (3 bytes each) round-trip", () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  for (const key of KEYS) {
    const bytes = utf8Encode(key);
    assert.deepEqual(bytes, encoder.encode(key), JSON.stringify(key));
    assert.equal(utf8Decode(bytes, 0, bytes.length), decoder.decode(bytes), JSON.stringify(key));
  }
  // A key is only ever compared with itself: a lone surrogate must come back unchanged.
  for (const key of [
    "lone \ud800 high",
    "high at the end \ud83d",
    "lone \udc00 low",
    "\ud800\ud800",
    "\udbff\ue000",
  ]) {
    const bytes = utf8Encode(key);
    assert.equal(bytes.length, encoder.encode(key).length, JSON.stringify(key));
    assert.equal(utf8Decode(bytes, 0, bytes.length), key, JSON.stringify(key));
  }
  // Decoding a slice in the middle of a buffer reads only that slice.
  const framed = new Uint8Array([0x41, ...utf8Encode("ключ😀"), 0x42]);
  assert.equal(utf8Decode(framed, 1, framed.length - 1), "ключ😀");
  // A 4-byte sequence past U+10FFFF decodes as U+FFFD, never throws.
  assert.equal(utf8Decode(new Uint8Array([0xf7, 0xbf, 0xbf, 0xbf]), 0, 4), "\ufffd");
});

function record(): LayoutRecord {
  return {
    generation: 7,
    sectorSize: 4096,
    sectorCount: 64,
    nextRingId: 5,
    rings: [
      { key: "a", ringId: 1, firstSector: 2, sectors: 4 },
      { key: "ключ😀", ringId: 4, firstSector: 6, sectors: 9 },
    ],
  };
}

/** The record's bytes in a sector-sized slot, after `edit`, with its CRC made valid again. */
function resealed(edit: (b: Uint8Array) => void): Uint8Array {
  const slot = new Uint8Array(512).fill(0xff);
  slot.set(encodeLayoutRecord(record()));
  edit(slot);
  const length = getU16(slot, 6);
  if (length >= 8 && length <= slot.length) putU32(slot, length - 4, crc32(slot, 0, length - 4));
  return slot;
}

test("layout record: size, round trip, and every rejection with its reason", () => {
  const bytes = encodeLayoutRecord(record());
  assert.equal(layoutRecordBytes(record().rings), bytes.length);
  assert.equal(layoutRecordBytes([]), encodeLayoutRecord({ ...record(), rings: [] }).length);
  assert.deepEqual(decodeLayoutRecord(resealed(() => {})), { ok: true, record: record() });
  const fail = (b: Uint8Array) => {
    const d = decodeLayoutRecord(b);
    assert.ok(!d.ok);
    return d.ok ? "" : `${d.blank} ${d.why}`;
  };
  assert.equal(fail(new Uint8Array(512).fill(0xff)), "true erased");
  assert.equal(fail(new Uint8Array(10).fill(0xff)), "true erased");
  // Erased where the fixed part is, whatever follows: still a blank slot.
  const tail = new Uint8Array(512).fill(0xff);
  tail[LAYOUT_FIXED_BYTES] = 0;
  assert.equal(fail(tail), "true erased");
  const header = new Uint8Array(512).fill(0xff);
  header[LAYOUT_FIXED_BYTES - 1] = 0;
  assert.equal(fail(header), "false no layout magic");
  assert.equal(fail(resealed((b) => putU16(b, 4, 2))), "false unknown layout version 2");
  const length = bytes.length;
  assert.equal(
    fail(resealed((b) => putU16(b, 6, LAYOUT_FIXED_BYTES + 3))),
    `false bad layout length ${LAYOUT_FIXED_BYTES + 3}`,
  );
  assert.equal(fail(resealed((b) => putU16(b, 6, 513))), "false bad layout length 513");
  assert.equal(
    fail(
      resealed((b) => (b[10]! ^= 1))
        .map((x, i) => (i === 10 ? x ^ 1 : x))
        .map((x, i) => (i === 11 ? x ^ 2 : x)),
    ),
    "false layout CRC mismatch",
  );
  // One ring more than the table holds; a key longer than what is left.
  assert.equal(fail(resealed((b) => putU16(b, 24, 3))), "false layout ring table overruns");
  assert.equal(
    fail(resealed((b) => (b[length - 4 - utf8Encode("ключ😀").length - 1] = 200))),
    "false layout key overruns",
  );
  // The smallest record (no rings) and a record filling its slot exactly are fine.
  const empty = encodeLayoutRecord({ ...record(), rings: [] });
  const slot = new Uint8Array(empty.length);
  slot.set(empty);
  assert.deepEqual(decodeLayoutRecord(slot), { ok: true, record: { ...record(), rings: [] } });
});

test("sector header: magic, version, size byte, CRC and sequence rules each make it unreadable", () => {
  const h: SectorHeader = { ringId: 9, sectorSeq: 1234, firstSeq: 500, syncPoint: 499 };
  const b = new Uint8Array(64);
  const out: SectorHeader = { ringId: 0, sectorSeq: 0, firstSeq: 0, syncPoint: 0 };
  encodeSectorHeader(b, 8, h);
  assert.ok(decodeSectorHeader(b, 8, out));
  assert.deepEqual(out, h);
  for (let i = 0; i < SECTOR_HEADER_BYTES; i++) {
    const copy = b.slice();
    copy[8 + i]! ^= 0x01;
    assert.ok(!decodeSectorHeader(copy, 8, out), `byte ${i} flipped`);
  }
  // Valid CRC but broken rules: no record 0, a sync point never at or past the sector's first record.
  for (const bad of [
    { ...h, firstSeq: 0, syncPoint: 0 },
    { ...h, syncPoint: 500 },
    { ...h, syncPoint: 501 },
  ]) {
    encodeSectorHeader(b, 8, bad);
    assert.ok(!decodeSectorHeader(b, 8, out), JSON.stringify(bad));
  }
  encodeSectorHeader(b, 8, { ...h, firstSeq: 1, syncPoint: 0 });
  assert.ok(decodeSectorHeader(b, 8, out), "the very first sector of a ring");
});

test("record length prefix: 1, 2 or 3 bytes at exactly the LEB128 edges; longer or unterminated is refused", () => {
  const b = new Uint8Array(8);
  for (const [length, bytes] of [
    [0, 1],
    [0x7f, 1],
    [0x80, 2],
    [0x3fff, 2],
    [0x4000, 3],
    [65535, 3],
  ] as const) {
    assert.equal(lengthPrefixBytes(length), bytes, `${length}`);
    b.fill(0xee);
    assert.equal(putLength(b, 2, length), 2 + bytes);
    assert.equal(readLength(b, 2), length);
  }
  assert.equal(readLength(new Uint8Array([0x80, 0x80, 0x80, 0x01]), 0), -1, "a fourth byte is never read");
  assert.equal(readLength(new Uint8Array([0x81, 0x81, 0x01]), 0), 1 + (1 << 7) + (1 << 14));
});

test("a native CRC hook takes ranges of 16 bytes and more; shorter ones and an unset hook stay in JavaScript", () => {
  const bytes = new Uint8Array(64).map((_, i) => i * 7);
  const expected = (start: number, end: number) => crc32(bytes, start, end);
  const js = [expected(0, 15), expected(0, 16), expected(3, 64)];
  const calls: number[][] = [];
  // The "native" side: a bit-at-a-time CRC-32 (the textbook reference), same running-value convention.
  setNativeCrc32((crc, b, start, end) => {
    calls.push([start, end]);
    let c = crc >>> 0;
    for (let i = start; i < end; i++) {
      c ^= b[i]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return c >>> 0;
  });
  try {
    assert.deepEqual([expected(0, 15), expected(0, 16), expected(3, 64)], js, "same values through the hook");
    assert.deepEqual(calls, [
      [0, 16],
      [3, 64],
    ]);
  } finally {
    setNativeCrc32(undefined);
  }
  calls.length = 0;
  assert.equal(expected(0, 64), crc32(bytes.slice(), 0, 64));
  assert.deepEqual(calls, [], "unset: never called");
});

test("adoptNativeCrc32 installs a native CRC only if it agrees with the reference", () => {
  const bitwise = (crc: number, b: Uint8Array, start: number, end: number) => {
    let c = crc >>> 0;
    for (let i = start; i < end; i++) {
      c ^= b[i]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return c >>> 0;
  };
  const bytes = new Uint8Array(64).map((_, i) => i * 7);
  const reference = crc32(bytes, 0, 64);
  let calls = 0;
  try {
    // Wrong conventions a ROM binding could get wrong: inversions (ROM functions take the finished value),
    // reflection (a big-endian CRC), offsets ignored, a chained update restarting.
    const wrong: [string, (crc: number, b: Uint8Array, s: number, e: number) => number][] = [
      ["finished value in and out", (crc, b, s, e) => (~bitwise(~crc >>> 0, b, s, e) >>> 0) ^ 0],
      ["no inversion at all", (crc, b, s, e) => (bitwise(crc, b, s, e) ^ 0xffffffff) >>> 0],
      ["offset ignored", (crc, b, s, e) => bitwise(crc, b, 0, e - s)],
      ["restarts instead of chaining", (_crc, b, s, e) => bitwise(0xffffffff, b, s, e)],
      ["another polynomial", (crc, b, s, e) => bitwise(crc ^ 1, b, s, e)],
      [
        "throws",
        () => {
          throw new RangeError("no ROM");
        },
      ],
    ];
    for (const [what, fn] of wrong) {
      const refused = adoptNativeCrc32((c, b, s, e) => {
        calls++;
        return fn(c, b, s, e);
      });
      assert.notEqual(refused, "", `${what}: refused`);
      calls = 0;
      assert.equal(crc32(bytes, 0, 64), reference, `${what}: the JavaScript CRC stays`);
      assert.equal(calls, 0, `${what}: never called after the refusal`);
    }
    assert.equal(
      adoptNativeCrc32((c, b, s, e) => {
        calls++;
        return bitwise(c, b, s, e);
      }),
      "",
    );
    calls = 0;
    assert.equal(crc32(bytes, 0, 64), reference);
    assert.equal(calls, 1, "installed: the store's CRC goes through it");
  } finally {
    setNativeCrc32(undefined);
  }
});
