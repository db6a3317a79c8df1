// The ring's writer at its edges: a record that fills the head sector to its
// last byte, batches of more records than one frame can count, a failed
// program that kept its first frame, erase failures before and after the
// first record of a batch, erase-ahead over a ring with no head, sync points
// whose write fails after the oldest sector was erased for it, and a full
// ring reopened and written on.

import { type FlashRing, RingWriteError } from "../../modules/storage/flash-ring";
import { FlashFaultError, NorImage } from "../../modules/storage/nor-image";
import { FRAME_BATCH, FRAME_OVERHEAD_BYTES, SECTOR_PREFIX_BYTES } from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "sensor/a/Readings";

function record(id: number, size: number): Uint8Array {
  const r = new Uint8Array(size).fill((id * 13) & 0xff);
  if (size > 0) r[0] = id & 0xff;
  if (size > 1) r[1] = (id >>> 8) & 0xff;
  return r;
}

function batch(ids: number[], size: number): TestBatch {
  const b = new TestBatch(Math.max(1, ids.length * size), Math.max(1, ids.length));
  for (const id of ids) b.add(record(id, size));
  return b;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Pending records as [seq, bytes]. */
function readAll(ring: FlashRing): { seq: number; bytes: Uint8Array }[] {
  const out: { seq: number; bytes: Uint8Array }[] = [];
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) return out;
    chunk.records.forEach((bytes, i) => {
      out.push({ seq: chunk.firstSeq + i, bytes });
    });
    after = chunk.lastSeq;
  }
}

function assertRecords(ring: FlashRing, ids: number[], size: number, label: string): void {
  const got = readAll(ring);
  assert.equal(got.length, ids.length, `${label}: count`);
  got.forEach((g, i) => {
    assert.deepEqual(g.bytes, record(ids[i]!, size), `${label}: record ${i}`);
    if (i > 0) assert.equal(g.seq, got[i - 1]!.seq + 1, `${label}: consecutive numbers`);
  });
}

test("a record whose frame fills the head sector's last byte goes into that sector", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  ring.append(batch([1], 100)); // 40 + 12 + 1 + 100 = 153 bytes used
  const erases = flash.erases;
  ring.append(batch([2], 345)); // 12 + 2 + 345 = 359 bytes: exactly the rest
  assert.equal(flash.erases, erases, "no sector opened for it");
  assert.equal(ring.writableWithoutErase(), 0);
  const end = (ring.firstSector + 1) * S;
  assert.ok(
    flash.bytes[end - 1] !== 0xff || flash.bytes[end - 2] !== 0xff,
    "the sector's last bytes hold its CRC",
  );
  const got = readAll(ring);
  assert.deepEqual(
    got.map((g) => g.seq),
    [1, 2],
  );
  assert.deepEqual(got[0]!.bytes, record(1, 100));
  assert.deepEqual(got[1]!.bytes, record(2, 345));
});

test("an erase failing before a batch's first record rethrows the driver's error; after some, a RingWriteError says how many", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const ring = openRingStore({ flash, log, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  flash.failSector(ring.firstSector);
  let error: unknown;
  try {
    ring.append(batch([1, 2], 30));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof FlashFaultError, "the erase's own error");
  assert.ok(!(error instanceof RingWriteError));
  assert.equal(ring.counters().appended, 0);
  flash.healSector(ring.firstSector);
  // Sector 0: 40 + 6 × (12 + 1 + 60) = 478 bytes; a 7th record does not fit.
  for (let id = 1; id <= 6; id++) ring.append(batch([id], 60));
  flash.failSector(ring.firstSector + 1);
  error = undefined;
  try {
    ring.append(batch([7, 8, 9], 15)); // 7 fits in sector 0 (12 + 16 = 28 ≤ 34 left), then sector 1 must be erased
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RingWriteError, "some records were stored");
  assert.equal((error as RingWriteError).stored, 1);
  assert.ok(
    (error as Error).message.includes(`ring "${KEY}": append failed after 1 record(s)`),
    (error as Error).message,
  );
  assert.equal(ring.counters().appended, 7);
  assert.equal(ring.counters().flashErrors, 2);
  assert.equal(readAll(ring).length, 7);
});

test("more than 255 records in one batch go out as several frames and read back whole", () => {
  const big = 1024;
  const flash = new NorImage({ size: 8 * big, sectorSize: big });
  let store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: KEY, sectors: 3 }] });
  let ring = store.ring(KEY)!;
  ring.append(batch(range(1, 300), 1)); // 255 + 45 records of 2 flash bytes each: one sector
  assert.equal(ring.nextSequence, 301);
  assertRecords(ring, range(1, 300), 1, "before reopening");
  assert.equal(ring.counters().corrupt, 0);
  store.close();
  store = openRingStore({ flash, retainUnsynced: true });
  ring = store.ring(KEY)!;
  assertRecords(ring, range(1, 300), 1, "after reopening");
  assert.equal(ring.counters().corrupt, 0);
});

test("a failed program that kept its first frame whole: those records stay, only the rest are written again", () => {
  const big = 1024;
  let keptFirstFrame = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const flash = new NorImage({ size: 8 * big, sectorSize: big });
    const log = new RecordingLogger();
    let store = openRingStore({ flash, log, retainUnsynced: true, layout: [{ key: KEY, sectors: 3 }] });
    let ring = store.ring(KEY)!;
    // The append erases sector 0, then programs header, units mark and two frames (255 + 45 records) at once.
    flash.armFault({ atOperation: flash.operations + 1, tear: "prefix", seed });
    ring.append(batch(range(1, 300), 1));
    assert.ok(
      log.lines.some((l) => l.includes(`ring "${KEY}": append program `)),
      `seed ${seed}: the failure is logged`,
    );
    const sector1 = (ring.firstSector + 1) * big;
    if (
      flash.bytes[sector1 + SECTOR_PREFIX_BYTES] === FRAME_BATCH &&
      flash.bytes[sector1 + SECTOR_PREFIX_BYTES + 1] === 45
    )
      keptFirstFrame++;
    const c = ring.counters();
    assert.deepEqual([c.appended, c.pending, c.flashErrors], [300, 300, 1], `seed ${seed}`);
    assert.equal(ring.nextSequence, 301, `seed ${seed}: numbers 1..300, none skipped`);
    assertRecords(ring, range(1, 300), 1, `seed ${seed}`);
    store.close();
    store = openRingStore({ flash, retainUnsynced: true });
    ring = store.ring(KEY)!;
    assertRecords(ring, range(1, 300), 1, `seed ${seed}, reopened`);
  }
  assert.ok(keptFirstFrame > 0, "some seed tore the program inside the second frame");
});

test("erase-ahead on a ring with no head yet erases every sector, and all of them count as writable", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  const perSector = S - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES;
  assert.equal(ring.eraseAhead(100 * S), 4);
  assert.equal(ring.writableWithoutErase(), 4 * perSector);
  assert.equal(ring.eraseAhead(100 * S), 0, "nothing left to erase");
  const erases = flash.erases;
  for (let id = 1; id <= 20; id++) ring.append(batch([id], 60));
  assert.equal(flash.erases, erases, "the appends needed no erase");
  assertRecords(ring, range(1, 20), 60, "written");
});

/** A 3-sector ring, every sector live with 7 records (1..7, 8..14, 15..21), the head with 11 bytes left. */
function fullRing() {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, retainUnsynced: true, layout: [{ key: KEY, sectors: 3 }] });
  const ring = store.ring(KEY)!;
  let id = 1;
  for (let sector = 0; sector < 3; sector++) {
    ring.append(batch(range(id, id + 5), 70)); // 40 + 12 + 6 × 71 = 478
    ring.append(batch([id + 6], 10)); // + 12 + 11 = 501: no room left even for a 12-byte sync frame
    id += 7;
  }
  assert.equal(ring.writableWithoutErase(), 0);
  assert.equal(ring.counters().pending, 21);
  return { flash, log, store, ring };
}

test("a sync point whose write fails after the oldest sector was erased for it counts those records as dropped", () => {
  const { flash, ring } = fullRing();
  const before = ring.counters();
  assert.equal(before.dropped, 0);
  const last = 21;
  // commit(7) must open a sector for its sync frame: the oldest, holding records 1..7. Its erase fails.
  flash.failSector(ring.firstSector);
  let error: unknown;
  try {
    ring.commit(7);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof FlashFaultError, "the erase's error");
  const c = ring.counters();
  assert.equal(ring.syncPoint, 0, "nothing acknowledged");
  assert.equal(c.committed, 0);
  assert.equal(c.dropped, 7, "records 1..7 were erased unacknowledged");
  assert.equal(c.pending, last - 7);
  assert.equal(c.appended, c.pending + c.committed + c.dropped);
  // Once the sector works again, a commit goes through and later drops are counted from scratch.
  flash.healSector(ring.firstSector);
  ring.commit(last);
  const after = ring.counters();
  assert.deepEqual([after.pending, after.committed, after.dropped], [0, last - 7, 7]);
  for (let id = 1000; id < 1010; id++) ring.append(batch([id], 40));
  const end = ring.counters();
  assert.equal(end.appended, end.pending + end.committed + end.dropped, "every record accounted for");
});

test("a sync point whose two program attempts fail drops what the sectors erased for it held", () => {
  const { flash, ring } = fullRing();
  const last = ring.nextSequence - 1;
  // commit(7): erase sector 0 (records 1..7) and program the sync frame there: fails; the sector is erased
  // again for the second attempt, which fails too.
  const op = flash.operations;
  flash.armFault({ atOperation: op + 1, tear: "none" });
  flash.armFault({ atOperation: op + 3, tear: "none" });
  let error: unknown;
  try {
    ring.commit(7);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RingWriteError, String(error));
  assert.ok((error as Error).message.includes("sync point not persisted"));
  const c = ring.counters();
  assert.equal(ring.syncPoint, 0);
  assert.equal(c.dropped, 7, "records 1..7 are gone and none was acknowledged");
  assert.equal(c.pending, last - 7);
  assert.equal(c.appended, c.pending + c.committed + c.dropped);
  ring.commit(last);
  for (let id = 1000; id < 1010; id++) ring.append(batch([id], 40));
  const end = ring.counters();
  assert.equal(end.appended, end.pending + end.committed + end.dropped, "every record accounted for");
  assert.equal(end.dropped, 7, "nothing unacknowledged was dropped since");
});

test("a full ring reopened and written on drops its oldest sector, counted, and keeps the rest readable", () => {
  const { flash, store } = fullRing();
  store.close();
  const again = openRingStore({ flash, retainUnsynced: true });
  const ring = again.ring(KEY)!;
  const held = readAll(ring).map((r) => r.seq);
  assert.equal(held[0], 1);
  const retained = ring.counters().retained!;
  assert.equal(retained, held.length);
  for (let id = 2000; id < 2010; id++) ring.append(batch([id], 40));
  const c = ring.counters();
  assert.ok(c.dropped > 0, "the oldest sector was reused");
  assert.equal(retained + c.appended, c.pending + c.dropped);
  const now = readAll(ring).map((r) => r.seq);
  assert.equal(now.length, c.pending);
  assert.equal(now[0], c.dropped + 1, "the oldest records went, in order");
  assert.equal(now[now.length - 1], held.length + 10);
});

test("committing records the ring already dropped changes no count; a full ring warns once per commit", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const ring = openRingStore({ flash, log, layout: [{ key: KEY, sectors: 3 }] }).ring(KEY)!;
  const warnings = () =>
    log.lines.filter((l) => l.includes("is full; overwriting its oldest unsynced records")).length;
  let id = 1;
  const fill = (n: number) => {
    for (let k = 0; k < n; k++) ring.append(batch([id++], 60));
  };
  fill(40); // 6 per sector, 3 sectors: the oldest ones were dropped
  const dropped = ring.counters().dropped;
  assert.ok(dropped > 0);
  assert.equal(warnings(), 1, "one warning for the first drop, none for the next ones");
  // Records 1..dropped are gone: acknowledging some of them commits nothing.
  ring.commit(dropped - 1);
  let c = ring.counters();
  assert.deepEqual([c.committed, c.dropped], [0, dropped]);
  assert.equal(c.appended, c.pending + c.committed + c.dropped);
  const last = ring.nextSequence - 1;
  ring.commit(last - 3);
  c = ring.counters();
  assert.equal(c.committed, last - 3 - dropped);
  fill(40);
  assert.equal(warnings(), 2, "a commit re-arms the warning");
  c = ring.counters();
  assert.equal(c.appended, c.pending + c.committed + c.dropped);
});

test("bytesUsed: a single live sector counts its programmed bytes; a ring whose first sector failed counts none", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 3 }] }).ring(KEY)!;
  assert.equal(ring.counters().bytesUsed, 0);
  ring.append(batch([1], 50));
  assert.equal(ring.counters().bytesUsed, SECTOR_PREFIX_BYTES + FRAME_OVERHEAD_BYTES + 1 + 50);

  const other = new NorImage({ size: 16 * S, sectorSize: S });
  const failing = openRingStore({ flash: other, layout: [{ key: KEY, sectors: 3 }] }).ring(KEY)!;
  // The first sector's header program fails twice (erase, program, erase, program): nothing is live.
  const op = other.operations;
  other.armFault({ atOperation: op + 1, tear: "none" });
  other.armFault({ atOperation: op + 3, tear: "none" });
  let error: unknown;
  try {
    failing.append(batch([1], 50));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RingWriteError);
  const c = failing.counters();
  assert.deepEqual([c.bytesUsed, c.bytesPending, c.pending, c.appended], [0, 0, 0, 0]);
  failing.append(batch([2], 50));
  assertRecords(failing, [2], 50, "the next append starts the ring");
});

test("bytesPending is exact to the sector: a sync point at a sector's end counts only the sectors after it", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  // 6 records of 60 bytes per sector (40 + 6 × 73 = 478): sectors 0 and 1 full, 3 records in sector 2.
  for (let id = 1; id <= 15; id++) ring.append(batch([id], 60));
  const headPart = () => ring.counters().bytesUsed - 2 * S - SECTOR_PREFIX_BYTES; // the head's frames
  const room = S - 28; // a whole sector's record space, as capacityBytes counts it
  ring.commit(6);
  assert.equal(ring.counters().bytesPending, room + headPart(), "sector 1 whole, and the head's frames");
  ring.commit(12);
  assert.equal(ring.counters().bytesPending, headPart(), "only the head's frames");
  ring.commit(15);
  assert.equal(ring.counters().bytesPending, 0);
});

test("bytesPending is 0 when a sync point alone opened the head sector", () => {
  const { ring } = fullRing();
  ring.commit(21); // no room for the sync frame in sector 2: it opens sector 0 (records 1..7 acknowledged)
  const c = ring.counters();
  assert.deepEqual([c.pending, c.bytesPending, c.dropped], [0, 0, 0]);
  assert.equal(
    c.bytesUsed,
    2 * S + SECTOR_PREFIX_BYTES + FRAME_OVERHEAD_BYTES,
    "sectors 1, 2 and the new head",
  );
});

test("bytesPending with the sync point inside the head sector: that sector's pending share", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  for (let id = 1; id <= 5; id++) ring.append(batch([id], 60));
  ring.commit(2);
  const c = ring.counters();
  const used = c.bytesUsed - SECTOR_PREFIX_BYTES; // one live sector: its frames
  assert.ok(
    c.bytesPending > 0.5 * used && c.bytesPending < 0.7 * used,
    `${c.bytesPending} of ${used}: 3 of 5 records`,
  );
});
