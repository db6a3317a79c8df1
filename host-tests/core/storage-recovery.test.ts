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

/** A 6-sector ring of 512-byte sectors whose records count for their id (first byte) in units. */
function unitsRing(flash: NorImage, retainUnsynced = false) {
  const recordUnits = (b: Uint8Array, start: number) => b[start]!;
  return openRingStore({ flash, layout: [{ key: KEY, sectors: 6 }], recordUnits, retainUnsynced }).ring(KEY)!;
}

const sum = (ids: number[]): number => ids.reduce((a, b) => a + b, 0);

test("census after a commit anywhere (tail, middle or head sector, or everything), before and after a reopen", () => {
  // 40 records of 40 bytes fill sectors of 8 (sequences 1, 9, 17, 25 and 33 open one), the last the head.
  // Open reads the sector holding the sync point only when it is inside an earlier sector.
  let baseRead = 0;
  for (let upto = 0; upto <= 40; upto++) {
    const flash = new NorImage({ size: 16 * S, sectorSize: S });
    const ring = unitsRing(flash);
    for (let id = 1; id <= 40; id++) appendIds(ring, [id], 40);
    if (upto > 0) ring.commit(upto);
    const expected = { records: 40 - upto, units: sum(range(upto + 1, 40)), lastSeq: 40 };
    assert.deepEqual(ring.census(), expected, `commit ${upto}`);
    const before = flash.bytesRead;
    const again = unitsRing(flash, true);
    const read = flash.bytesRead - before;
    if (upto === 0) baseRead = read;
    const inEarlierSector = upto >= 1 && upto < 32 && upto % 8 !== 0;
    assert.equal(read, baseRead + (inEarlierSector ? S : 0), `commit ${upto}: bytes read by the reopen`);
    assert.deepEqual(again.census(), expected, `commit ${upto}, reopened`);
    assert.deepEqual(readIds(again), range(upto + 1, 40));
    // Appending after the reopen carries the count on.
    appendIds(again, [41, 42], 40);
    assert.deepEqual(again.census(), { records: 42 - upto, units: expected.units + 83, lastSeq: 42 });
  }
});

test("a record-units function that returns nonsense or throws counts the record as 1", () => {
  const answers: unknown[] = [2.5, -1, 0x1000001, Number.NaN, "7", undefined];
  let i = 0;
  const recordUnits = (): number => {
    const a = answers[i++ % (answers.length + 2)];
    if (i % (answers.length + 2) === 0) throw new Error("bad block");
    return i % (answers.length + 2) === answers.length + 1 ? 0x1000000 : (a as number);
  };
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }], recordUnits }).ring(KEY)!;
  // Per 8 records: six nonsense answers (1 each), one 2^24 (the largest valid count), one throw (1).
  appendIds(ring, range(1, 8));
  assert.deepEqual(ring.census(), { records: 8, units: 7 + 0x1000000, lastSeq: 8 });
});

test("opening logs unsynced records only when there are some, and says how many", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  appendIds(ring, range(1, 5));
  ring.commit(5);
  store.close();
  const quiet = new RecordingLogger();
  openRingStore({ flash, log: quiet, retainUnsynced: true }).close();
  assert.ok(!quiet.has(/unsynced/), quiet.lines.join("\n"));
  const more = openRingStore({ flash, retainUnsynced: true });
  appendIds(more.ring(KEY)!, range(6, 8));
  more.close();
  const log = new RecordingLogger();
  const again = openRingStore({ flash, log, retainUnsynced: true }).ring(KEY)!;
  assert.ok(log.has(new RegExp(`ring "${KEY}" has 3 unsynced record\\(s\\)`)), log.lines.join("\n"));
  assert.equal(again.counters().retained, 3);
});

test("a malformed batch is refused with a RangeError and stores nothing", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  const bytes = new Uint8Array(ring.maxRecordBytes + 10);
  const bad: { count: number; ends: number[] }[] = [
    { count: 1.5, ends: [4, 8] },
    { count: -1, ends: [4] },
    { count: 3, ends: [4, 8] },
    { count: 2, ends: [8, 4] },
    { count: 1, ends: [bytes.length + 1] },
    { count: 1, ends: [ring.maxRecordBytes + 1] },
  ];
  for (const b of bad) {
    assert.throws(
      () => {
        try {
          ring.append({ count: b.count, ends: Uint32Array.from(b.ends), bytes });
        } catch (e) {
          assert.ok(e instanceof RangeError, `${e}`);
          throw e;
        }
      },
      /^storage: (batch count|batch record|record of)/,
      JSON.stringify(b),
    );
  }
  const max = ring.maxRecordBytes;
  assert.throws(
    () => ring.append({ count: 2, ends: Uint32Array.from([4, max + 5]), bytes }),
    `storage: record of ${max + 1} bytes exceeds the ${max}-byte maximum`,
  );
  assert.equal(ring.counters().appended, 0);
  assert.equal(ring.nextSequence, 1);
  // The limits themselves are fine: an empty batch, and records ending exactly at the end of the bytes.
  ring.append({ count: 0, ends: new Uint32Array(0), bytes });
  ring.append({ count: 2, ends: Uint32Array.from([4, 4]), bytes: bytes.subarray(0, 4) });
  assert.equal(ring.nextSequence, 3);
  ring.append({ count: 1, ends: Uint32Array.from([ring.maxRecordBytes]), bytes });
  assert.equal(ring.nextSequence, 4);
});

test("writableWithoutErase and eraseAhead: exact bytes and sectors, from a fresh ring to a full one", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  // What a sector holds once opened, and what one appended batch of one record costs.
  const perSector = S - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES;
  const oneRecord = recordFlashBytes(40) + FRAME_OVERHEAD_BYTES;
  assert.equal(ring.writableWithoutErase(), 0, "nothing erased yet");
  {
    // Room left in the head sector is enough: nothing erased ahead of it.
    const other = new NorImage({ size: 16 * S, sectorSize: S });
    const store = openRingStore({ flash: other, layout: [{ key: KEY, sectors: 4 }] });
    const fresh = store.ring(KEY)!;
    appendIds(fresh, [1], 40);
    assert.equal(fresh.eraseAhead(10), 0);
    assert.ok(fresh.writableWithoutErase() > 10);
    store.close();
    assert.equal(fresh.writableWithoutErase(), 0, "a closed ring takes nothing");
  }
  assert.equal(ring.eraseAhead(100), 1);
  assert.equal(ring.writableWithoutErase(), perSector);
  assert.equal(ring.eraseAhead(100), 0, "already there");
  assert.equal(ring.eraseAhead(3 * perSector), 2);
  assert.equal(ring.writableWithoutErase(), 3 * perSector);
  appendIds(ring, [1], 40);
  assert.equal(ring.writableWithoutErase(), 3 * perSector - oneRecord);
  // With a head, erasing ahead stops one sector short of it: the last free one of four.
  assert.equal(ring.eraseAhead(100 * S), 1);
  assert.equal(ring.writableWithoutErase(), 4 * perSector - oneRecord);
  for (let id = 2; id <= 41; id++) appendIds(ring, [id], 40);
  const before = ring.writableWithoutErase();
  assert.ok(before < perSector, `${before} bytes left`);
  const pending = ring.counters().pending;
  // The ring is full: making room drops the oldest sector.
  assert.equal(ring.eraseAhead(before + 1), 1);
  assert.equal(ring.writableWithoutErase(), before + perSector);
  assert.ok(ring.counters().pending < pending && ring.counters().dropped > 0);
});

test("read after a sequence: below the sync point, fractional, at or past the end; one record at a time resumes where it stopped", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 6 }] }).ring(KEY)!;
  for (let id = 1; id <= 40; id++) appendIds(ring, [id], 40);
  ring.commit(10);
  assert.equal(ring.read(10, 2.7)?.firstSeq, 11, "below the sync point: from the sync point");
  assert.equal(ring.read(10, -5)?.firstSeq, 11);
  assert.equal(ring.read(10, Number.NaN)?.firstSeq, 11);
  assert.equal(ring.read(10, 20.9)?.firstSeq, 21, "a fraction counts as the record it is in");
  assert.equal(ring.read(10, 39)?.firstSeq, 40);
  assert.equal(ring.read(10, 40), null);
  assert.equal(ring.read(10, 41), null);
  // Whole-chunk read, then the same records one at a time: each read goes on from the last
  // one's position (at most one 256-byte load each), never back to the start of the sector.
  let before = flash.bytesRead;
  assert.equal(ring.read(1e9)!.records.length, 30);
  const whole = flash.bytesRead - before;
  before = flash.bytesRead;
  let after: number | undefined;
  const ids: number[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const one = ring.read(1, after);
    if (!one) break;
    assert.equal(one.records.length, 1);
    ids.push(one.records[0]![0]!);
    after = one.lastSeq;
  }
  assert.deepEqual(ids, range(11, 40));
  const oneByOne = flash.bytesRead - before;
  assert.ok(oneByOne <= 30 * 256, `${oneByOne} bytes read one at a time (whole: ${whole})`);
});
