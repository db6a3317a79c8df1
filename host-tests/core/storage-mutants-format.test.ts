// Sector headers and frames at their edges: a header is accepted only with
// every one of its marks right (even when its CRC is recomputed over a wrong
// one), and empty records (zero-length payloads) are stored, framed and read
// back like any other, alone or between others, across a reboot.

import { crc32 } from "../../modules/storage/crc32";
import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import {
  checkFrame,
  decodeSectorHeader,
  encodeSectorHeader,
  putU32,
  type SectorHeader,
} from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "sensor/a/Readings";

function header(h: SectorHeader): Uint8Array {
  const b = new Uint8Array(40).fill(0xff);
  encodeSectorHeader(b, 4, h);
  return b;
}

/** Sets byte `at` (relative to the header at 4) and recomputes the header CRC over the change. */
function patched(h: SectorHeader, at: number, value: number): Uint8Array {
  const b = header(h);
  b[4 + at] = value;
  putU32(b, 4 + 24, crc32(b, 4, 4 + 24));
  return b;
}

test("a sector header is accepted only with its magic, version, length and CRC right, even with a fresh CRC", () => {
  const h = { ringId: 7, sectorSeq: 3, firstSeq: 100, syncPoint: 40 };
  const out: SectorHeader = { ringId: 0, sectorSeq: 0, firstSeq: 0, syncPoint: 0 };
  assert.ok(decodeSectorHeader(header(h), 4, out));
  assert.deepEqual(out, h);
  for (const [at, value] of [
    [0, 0x53],
    [1, 0x48],
    [2, 2],
    [3, 29],
  ] as const) {
    assert.equal(decodeSectorHeader(patched(h, at, value), 4, out), false, `byte ${at} = ${value}`);
  }
  const rotten = header(h);
  rotten[4 + 10] ^= 0x01;
  assert.equal(decodeSectorHeader(rotten, 4, out), false, "CRC");
});

test("a sector header must open after its sync point, with a first record number of at least 1", () => {
  const out: SectorHeader = { ringId: 0, sectorSeq: 0, firstSeq: 0, syncPoint: 0 };
  assert.ok(decodeSectorHeader(header({ ringId: 1, sectorSeq: 1, firstSeq: 1, syncPoint: 0 }), 4, out));
  assert.ok(decodeSectorHeader(header({ ringId: 1, sectorSeq: 1, firstSeq: 9, syncPoint: 8 }), 4, out));
  assert.equal(
    decodeSectorHeader(header({ ringId: 1, sectorSeq: 1, firstSeq: 9, syncPoint: 9 }), 4, out),
    false,
  );
  assert.equal(
    decodeSectorHeader(header({ ringId: 1, sectorSeq: 1, firstSeq: 0, syncPoint: 0 }), 4, out),
    false,
  );
});

function readAll(ring: FlashRing): number[][] {
  const out: number[][] = [];
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) return out;
    for (const r of chunk.records) out.push(Array.from(r));
    after = chunk.lastSeq;
  }
}

test("empty records are stored and read back, alone, in runs and between others, across a reboot", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  let store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: KEY, sectors: 4 }] });
  let ring = store.ring(KEY)!;
  const b = new TestBatch(64, 8);
  const expected: number[][] = [];
  const add = (...records: number[][]) => {
    b.clear();
    for (const r of records) {
      b.add(Uint8Array.from(r));
      expected.push(r);
    }
    ring.append(b);
  };
  add([]);
  add([], [], []);
  add([1, 2], [], [3]);
  add([], [4]);
  assert.deepEqual(readAll(ring), expected);
  assert.equal(ring.counters().corrupt, 0);
  store.close();
  store = openRingStore({ flash, retainUnsynced: true });
  ring = store.ring(KEY)!;
  assert.deepEqual(readAll(ring), expected);
  assert.equal(ring.counters().corrupt, 0);
});

test("a frame of empty records checks; one whose lengths run past its body does not", () => {
  // kind, count 2, body length 2, sequence 1; two zero lengths; CRC.
  const b = new Uint8Array([0xb1, 2, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  putU32(b, 10, crc32(b, 0, 10));
  assert.equal(checkFrame(b, 0, b.length), 14);
  // Count 3 with the same body: the third length would be read from the CRC.
  const c = b.slice();
  c[1] = 3;
  putU32(c, 10, crc32(c, 0, 10));
  assert.equal(checkFrame(c, 0, c.length), -1);
});

/** A frame of `kind` with `count`, a body of `body` bytes, sequence 1, and a valid CRC. */
function frame(kind: number, count: number, body: number[]): Uint8Array {
  const b = new Uint8Array(12 + body.length);
  b[0] = kind;
  b[1] = count;
  b[2] = body.length & 0xff;
  b[3] = body.length >> 8;
  b[4] = 1;
  b.set(body, 8);
  putU32(b, 8 + body.length, crc32(b, 0, 8 + body.length));
  return b;
}

test("sync frames and units marks carry no count and no body; batches at least one record, each length in its shortest form", () => {
  for (const kind of [0x5c, 0x55]) {
    assert.equal(checkFrame(frame(kind, 0, []), 0, 12), 12);
    assert.equal(checkFrame(frame(kind, 1, []), 0, 12), -1, `${kind}: a count`);
    assert.equal(checkFrame(frame(kind, 0, [0]), 0, 13), -1, `${kind}: a body`);
    assert.equal(checkFrame(frame(kind, 1, [0]), 0, 13), -1, `${kind}: both`);
  }
  assert.equal(checkFrame(frame(0xb1, 0, []), 0, 12), -1, "a batch of no record");
  assert.equal(checkFrame(frame(0x42, 0, []), 0, 12), -1, "an unknown kind");
  assert.equal(checkFrame(frame(0xb1, 1, [1, 9]), 0, 14), 14);
  // 0x80 0x00: a zero length padded to two bytes (read as one zero length, then a second one).
  assert.equal(checkFrame(frame(0xb1, 2, [0x80, 0x00]), 0, 14), -1, "a padded length");
  assert.equal(checkFrame(frame(0xb1, 1, [0x81, 0x00, 1]), 0, 15), -1, "length 1 padded");
  assert.equal(checkFrame(frame(0xb1, 1, [0x80, 0x80, 0x80]), 0, 15), -1, "an unterminated length");
  // A frame that ends one byte past the limit.
  assert.equal(checkFrame(frame(0x5c, 0, []), 0, 11), -1);
});
