// What reopening a ring must make of its head sector and its sector marks, and the ring's
// error and size facts: cases the mutation run (npm run mutation storage) found unguarded.

import { type FlashRing, maxRecordBytes, RingWriteError } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import {
  FRAME_OVERHEAD_BYTES,
  recordFlashBytes,
  SECTOR_PREFIX_BYTES,
} from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "rdk:component:sensor/s/Readings";

/** Record `id`: `size` bytes, the first two spelling the id, the rest a pattern of it. */
function record(id: number, size = 24): Uint8Array {
  const r = new Uint8Array(size);
  for (let i = 0; i < size; i++) r[i] = (id * 7 + i) & 0xff;
  r[0] = id & 0xff;
  r[1] = id >>> 8;
  return r;
}

function appendIds(ring: FlashRing, ids: number[], size = 24): void {
  const batch = new TestBatch(S * 4, 64);
  for (const id of ids) batch.add(record(id, size));
  ring.append(batch);
}

/** Every pending record's id, read one chunk at a time. */
function readIds(ring: FlashRing): number[] {
  const ids: number[] = [];
  let after: number | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const chunk = ring.read(S, after);
    if (!chunk) break;
    chunk.records.forEach((r, i) => {
      const id = r[0]! | (r[1]! << 8);
      assert.deepEqual(r, record(id, r.length), `record ${chunk.firstSeq + i} intact`);
      ids.push(id);
    });
    after = chunk.lastSeq;
  }
  return ids;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Index just past the last programmed byte of sector `sector` of the image (its first byte if blank). */
function programmedEnd(flash: NorImage, sector: number): number {
  for (let i = (sector + 1) * S - 1; i >= sector * S; i--) if (flash.bytes[i] !== 0xff) return i + 1;
  return sector * S;
}

test("RingWriteError says which ring, how many records were stored, and why", () => {
  const e = new RingWriteError("k", 2, new Error("flash busy"));
  assert.equal(e.message, 'storage: ring "k": append failed after 2 record(s): flash busy');
  assert.equal(e.name, "RingWriteError");
  assert.equal(e.stored, 2);
  assert.ok(e instanceof Error);
  // A cause that is no Error is shown as it is; a missing one does not make the error itself throw.
  assert.equal(
    new RingWriteError("k", 0, "code 5").message,
    'storage: ring "k": append failed after 0 record(s): code 5',
  );
  assert.equal(
    new RingWriteError("k", 1, undefined, "sync point write failed").message,
    'storage: ring "k": sync point write failed: undefined',
  );
});

test("maxRecordBytes is the largest record that fits a sector alone, for every sector size", () => {
  for (let size = 128; size <= 70000; size += size < 1200 ? 1 : 97) {
    const m = maxRecordBytes(size);
    assert.ok(SECTOR_PREFIX_BYTES + FRAME_OVERHEAD_BYTES + recordFlashBytes(m) <= size, `fits at ${size}`);
    assert.ok(
      SECTOR_PREFIX_BYTES + FRAME_OVERHEAD_BYTES + recordFlashBytes(m + 1) > size,
      `largest at ${size}`,
    );
  }
});

test("a record of exactly maxRecordBytes is stored and read back; the ring says whether it counts units", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  assert.equal(ring.unitsCounted, false);
  assert.equal(ring.maxRecordBytes, maxRecordBytes(S));
  appendIds(ring, [1], ring.maxRecordBytes);
  appendIds(ring, [2], ring.maxRecordBytes);
  assert.deepEqual(readIds(ring), [1, 2]);
  const counted = openRingStore({ flash, recordUnits: () => 3, retainUnsynced: true }).ring(KEY)!;
  assert.equal(counted.unitsCounted, true);
});

test("bytes programmed after the head sector's last frame (a torn write): the sector is sealed, nothing written over them", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  appendIds(ring, range(1, 3));
  const head = ring.firstSector;
  store.close();
  // A torn program left a few bytes some way after the last frame.
  const end = programmedEnd(flash, head);
  assert.ok(end < (head + 1) * S - 60, "room left in the head sector");
  flash.bytes[end + 9] = 0x00;
  flash.bytes[end + 10] = 0x12;
  const log = new RecordingLogger();
  const again = openRingStore({ flash, log, retainUnsynced: true }).ring(KEY)!;
  assert.ok(log.has(/programmed bytes after its last frame.*sealing it/), log.lines.join("\n"));
  assert.equal(
    again.writableWithoutErase(),
    0,
    "nothing more goes into the sealed sector without opening another",
  );
  appendIds(again, range(4, 6));
  // The new records went to the next sector: the torn bytes are untouched and everything reads back.
  assert.equal(flash.bytes[end + 9], 0x00);
  assert.equal(flash.bytes[end + 10], 0x12);
  assert.deepEqual(readIds(again), range(1, 6));
  const third = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
  assert.deepEqual(readIds(third), range(1, 6));
});

test("a damaged last frame in the head sector: counted, the sector sealed, later appends land intact", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  appendIds(ring, range(1, 3));
  appendIds(ring, range(4, 5));
  const head = ring.firstSector;
  store.close();
  // Flip a bit in the payload of the last frame (ids 4 and 5).
  const end = programmedEnd(flash, head);
  flash.bytes[end - 8]! ^= 0x10;
  const log = new RecordingLogger();
  const again = openRingStore({ flash, log, retainUnsynced: true }).ring(KEY)!;
  assert.equal(again.writableWithoutErase(), 0);
  appendIds(again, range(6, 7));
  assert.deepEqual(readIds(again), [1, 2, 3, 6, 7]);
  assert.equal(again.counters().corrupt, 1, "one damaged frame");
});
