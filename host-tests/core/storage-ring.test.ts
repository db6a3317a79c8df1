// The ring store's contract, case by case: batched appends, budgeted reads,
// commits, full rings, erase-ahead, both reboot rules, layout changes.

import { NorImage, PowerCutError } from "../../modules/storage/nor-image";
import {
  checkFrame,
  encodeSectorHeader,
  FRAME_BATCH,
  FRAME_OVERHEAD_BYTES,
  FRAME_SYNC,
  getU48,
  putU16,
  putU32,
  putU48,
  SECTOR_HEADER_BYTES,
  SECTOR_PREFIX_BYTES,
  sealFrame,
  seqAtOrBelow,
  seqFromLow,
} from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { DEFAULT_RING_KB, ringSectorsFor } from "../../modules/storage/sizing";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { RecordingLogger, randomRecord, TestBatch } from "../support/flash-scenario";

const S = 4096;
const KEY = "rdk:component:sensor/temp/Readings";

function setup(sectors = 8, totalSectors = 32) {
  const flash = new NorImage({ size: totalSectors * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: [{ key: KEY, sectors }] });
  return { flash, log, store, ring: store.ring(KEY)! };
}

/** Fills `batch` with `n` records of `size` bytes whose first bytes spell their index `from + i`. */
function fill(batch: TestBatch, from: number, n: number, size = 40): void {
  batch.clear();
  const r = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    const id = from + i;
    r.fill(id & 0xff);
    r[0] = id & 0xff;
    r[1] = (id >>> 8) & 0xff;
    r[2] = (id >>> 16) & 0xff;
    batch.add(r);
  }
}

function idOf(record: Uint8Array): number {
  return record[0]! | (record[1]! << 8) | (record[2]! << 16);
}

test("append then read returns the records, in order, with their sequence numbers", () => {
  const { ring } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 10);
  ring.append(batch);
  fill(batch, 11, 5, 7);
  ring.append(batch);
  const chunk = ring.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 1);
  assert.equal(chunk.lastSeq, 15);
  assert.equal(chunk.records.length, 15);
  assert.equal(chunk.bytes, 10 * 40 + 5 * 7);
  chunk.records.forEach((r, i) => {
    assert.equal(idOf(r), i + 1);
  });
  assert.equal(chunk.records[12]!.length, 7);
});

test("read respects the byte budget, yet always returns at least one record", () => {
  const { ring } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 10, 100);
  ring.append(batch);
  assert.equal(ring.read(350)!.records.length, 3);
  assert.equal(ring.read(300)!.records.length, 3);
  assert.equal(ring.read(299)!.records.length, 2);
  const one = ring.read(1)!;
  assert.equal(one.records.length, 1);
  assert.equal(one.bytes, 100);
});

test("reading never moves the sync point; commit does, and reads resume after it", () => {
  const { ring } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 20);
  ring.append(batch);
  assert.equal(ring.read(200)!.lastSeq, 5);
  assert.equal(ring.read(200)!.lastSeq, 5, "a second read returns the same records");
  assert.equal(ring.syncPoint, 0);
  // The uploader can pipeline: read the next chunk after one still in flight.
  const next = ring.read(200, 5)!;
  assert.equal(next.firstSeq, 6);
  ring.commit(5);
  assert.equal(ring.syncPoint, 5);
  assert.equal(ring.read(40)!.firstSeq, 6);
  ring.commit(3); // an older ack changes nothing
  assert.equal(ring.syncPoint, 5);
  ring.commit(1000); // beyond the last record: clamped
  assert.equal(ring.syncPoint, 20);
  assert.equal(ring.read(1000), null);
  const c = ring.counters();
  assert.equal(c.committed, 20);
  assert.equal(c.pending, 0);
});

test("an empty ring reads null and ignores commits", () => {
  const { ring, flash } = setup();
  const ops = flash.operations;
  assert.equal(ring.read(100), null);
  ring.commit(5);
  assert.equal(ring.syncPoint, 0);
  assert.equal(flash.operations, ops, "no flash write for a no-op commit");
});

test("a batch costs one program operation per sector it touches", () => {
  const { ring, flash } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 10);
  const before = flash.programOps;
  ring.append(batch);
  assert.equal(flash.programOps - before, 1, "a small batch is one program");
  // 100 Hz × 1 s of 40-byte readings is just over one sector: two programs.
  let next = 11;
  for (let k = 0; k < 20; k++) {
    const ops = flash.programOps;
    const erases = flash.erases;
    fill(batch, next, 100);
    next += 100;
    ring.append(batch);
    assert.ok(flash.programOps - ops <= 2, `batch ${k} took ${flash.programOps - ops} programs`);
    assert.ok(flash.programOps - ops - (flash.erases - erases) <= 2);
  }
  // More than 255 records of a few bytes still go out as one program per sector.
  fill(batch, next, 256, 4);
  const ops = flash.programOps;
  ring.append(batch);
  assert.ok(flash.programOps - ops <= 2);
});

test("framing overhead for 40-byte records stays under 10%", () => {
  const { ring, flash } = setup(16, 40);
  const batch = new TestBatch(8192, 256);
  let id = 1;
  const before = flash.bytesProgrammed;
  for (let k = 0; k < 10; k++) {
    fill(batch, id, 100);
    id += 100;
    ring.append(batch);
  }
  const perRecord = (flash.bytesProgrammed - before) / 1000;
  assert.ok(perRecord < 44, `${perRecord} flash bytes per 40-byte record`);
  assert.ok(perRecord > 40);
});

test("a full ring erases its oldest sector, drops those records and counts them", () => {
  const { ring, log } = setup(4);
  const batch = new TestBatch(8192, 256);
  let id = 1;
  for (let k = 0; k < 12; k++) {
    fill(batch, id, 60);
    id += 60;
    ring.append(batch);
  }
  const c = ring.counters();
  assert.equal(c.appended, 720);
  assert.ok(c.dropped > 0, "nothing dropped");
  assert.equal(c.appended, c.committed + c.dropped + c.pending);
  const chunk = ring.read(1 << 20)!;
  assert.equal(chunk.lastSeq, 720);
  assert.equal(chunk.firstSeq, c.dropped + 1, "the oldest records are the ones dropped");
  assert.equal(chunk.records.length, c.pending);
  chunk.records.forEach((r, i) => {
    assert.equal(idOf(r), chunk.firstSeq + i);
  });
  assert.ok(log.has(/full; overwriting/));
  assert.ok(c.pending * 41 >= c.capacityBytes * 0.9, "the ring keeps at least its stated capacity");
});

test("committed records are not counted as dropped when their sector is reused", () => {
  const { ring } = setup(3);
  const batch = new TestBatch(8192, 256);
  let id = 1;
  for (let k = 0; k < 10; k++) {
    fill(batch, id, 50);
    id += 50;
    ring.append(batch);
    ring.commit(ring.read(1 << 20)!.lastSeq);
  }
  const c = ring.counters();
  assert.equal(c.dropped, 0);
  assert.equal(c.committed, 500);
});

test("eraseAhead erases at the caller's moment so the next appends do not", () => {
  const { ring, flash } = setup(6);
  const batch = new TestBatch(8192, 256);
  // Dirty the whole ring once so that every sector needs an erase before reuse.
  let id = 1;
  for (let k = 0; k < 8; k++) {
    fill(batch, id, 90);
    id += 90;
    ring.append(batch);
  }
  ring.commit(ring.read(1 << 20)!.lastSeq);
  const writable = ring.writableWithoutErase();
  const erased = ring.eraseAhead(writable + 3 * S);
  assert.ok(erased >= 2, `erased ${erased}`);
  assert.ok(ring.writableWithoutErase() >= writable + 3 * S);
  const erases = flash.erases;
  fill(batch, id, 90);
  ring.append(batch);
  fill(batch, id + 90, 90);
  ring.append(batch);
  assert.equal(flash.erases, erases, "append erased after eraseAhead");
  assert.equal(ring.eraseAhead(0), 0);
  // Never more than the ring minus its head.
  assert.ok(ring.eraseAhead(1 << 30) <= 5);
});

test("eraseAhead on a full ring drops the oldest records and counts them", () => {
  const { ring } = setup(3);
  const batch = new TestBatch(8192, 256);
  let id = 1;
  while (ring.counters().bytesUsed < 2.5 * S) {
    fill(batch, id, 50);
    id += 50;
    ring.append(batch);
  }
  assert.equal(ring.counters().dropped, 0);
  ring.eraseAhead(2 * S);
  const c = ring.counters();
  assert.ok(c.dropped > 0);
  assert.equal(c.appended, c.committed + c.dropped + c.pending);
  assert.equal(ring.read(1 << 20)!.firstSeq, c.dropped + 1);
});

test("default reboot rule: records after the sync point are discarded and counted; new records follow", () => {
  const { flash, ring } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 30);
  ring.append(batch);
  ring.commit(10);
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: [{ key: KEY, sectors: 8 }] });
  const again = store.ring(KEY)!;
  assert.equal(again.counters().discarded, 20);
  assert.equal(again.counters().pending, 0);
  assert.equal(again.read(1 << 20), null);
  assert.ok(log.has(/discarded 20 unsynced/));
  fill(batch, 100, 3);
  again.append(batch);
  const chunk = again.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 31, "sequence numbers never repeat");
  assert.deepEqual(chunk.records.map(idOf), [100, 101, 102]);
  // The discard was persisted: even a retaining reopen does not bring them back.
  const third = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
  assert.deepEqual(third.read(1 << 20)!.records.map(idOf), [100, 101, 102]);
  assert.equal(third.counters().retained, 3);
});

test("retainUnsynced keeps records after the sync point across a reboot", () => {
  const { flash, ring } = setup();
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 30);
  ring.append(batch);
  ring.commit(10);
  const store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: KEY, sectors: 8 }] });
  const again = store.ring(KEY)!;
  assert.equal(again.syncPoint, 10);
  const c = again.counters();
  assert.equal(c.discarded, 0);
  assert.equal(c.retained, 20);
  assert.equal(c.pending, 20);
  const chunk = again.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 11);
  assert.deepEqual(
    chunk.records.map(idOf),
    Array.from({ length: 20 }, (_, i) => 11 + i),
  );
});

test("a reboot without a layout reuses the stored one", () => {
  const { flash, ring } = setup(5);
  const batch = new TestBatch(8192, 256);
  fill(batch, 1, 3);
  ring.append(batch);
  const store = openRingStore({ flash, retainUnsynced: true });
  assert.deepEqual(
    store.rings().map((r) => [r.key, r.sectorCount]),
    [[KEY, 5]],
  );
  assert.equal(store.ring(KEY)!.read(1000)!.records.length, 3);
  assert.equal(store.openReport.formatted, false);
});

test("layout change: unchanged rings keep records and sync point; resized and removed rings are reformatted and counted", () => {
  const flash = new NorImage({ size: 40 * S, sectorSize: S });
  const batch = new TestBatch(8192, 256);
  const first = openRingStore({
    flash,
    layout: [
      { key: "a", sectors: 4 },
      { key: "b", sectors: 4 },
      { key: "c", sectors: 4 },
    ],
  });
  for (const key of ["a", "b", "c"]) {
    fill(batch, 1, 20);
    first.ring(key)!.append(batch);
    first.ring(key)!.commit(5);
  }
  const a = first.ring("a")!;
  first.close();
  const log = new RecordingLogger();
  const second = openRingStore({ flash, log, retainUnsynced: true });
  second.configure([
    { key: "a", sectors: 4 },
    { key: "b", sectors: 6 },
    { key: "d", sectors: 3 },
  ]);
  const ra = second.ring("a")!;
  assert.equal(ra.syncPoint, 5);
  assert.equal(ra.read(1 << 20)!.records.length, 15, "unchanged ring kept its records");
  const rb = second.ring("b")!;
  assert.equal(rb.syncPoint, 0);
  assert.equal(rb.read(1 << 20), null, "resized ring starts empty");
  assert.equal(rb.counters().discarded, 15, "its unsynced records are counted as discarded");
  assert.equal(second.ring("c"), undefined);
  assert.ok(log.has(/"b" changed or removed: 15 unsynced/));
  assert.ok(log.has(/"c" changed or removed: 15 unsynced/));
  assert.equal(second.ring("d")!.read(100), null);
  assert.throws(() => a.append(batch), /closed|removed/, "a ring object of a closed store refuses appends");
  // The new layout is what the next boot finds; the kept ring is still intact.
  const third = openRingStore({ flash, retainUnsynced: true });
  assert.deepEqual(
    third.rings().map((r) => `${r.key}:${r.sectorCount}`),
    ["a:4", "b:6", "d:3"],
  );
  assert.equal(third.ring("a")!.read(1 << 20)!.records.length, 15);
  // Ring objects for unchanged keys survive configure (capture may hold them).
  third.configure([
    { key: "a", sectors: 4 },
    { key: "b", sectors: 6 },
  ]);
  assert.equal(third.ring("a")!.read(1 << 20)!.records.length, 15);
});

test("rings that do not fit, duplicates and bad sizes are logged, never fatal", () => {
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({
    flash,
    log,
    layout: [
      { key: "a", sectors: 4 },
      { key: "a", sectors: 2 },
      { key: "b", sectors: 0 },
      { key: "", sectors: 3 },
      { key: "huge", sectors: 100 },
    ],
  });
  assert.deepEqual(
    store.rings().map((r) => `${r.key}:${r.sectorCount}`),
    ["a:4", "b:2"],
  );
  assert.ok(log.has(/"a" appears twice/));
  assert.ok(log.has(/"b" asks for 0 sectors; using 2/));
  assert.ok(log.has(/error .*key "" must be/));
  assert.ok(log.has(/error .*"huge" \(100 sectors\) does not fit/));
});

test("a fragmented partition is repacked rather than refusing a ring", () => {
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const store = openRingStore({
    flash,
    layout: [
      { key: "a", sectors: 3 },
      { key: "b", sectors: 3 },
      { key: "c", sectors: 4 },
    ],
  });
  // Removing b leaves 3 free in the middle: c growing to 5 fits only by moving.
  store.configure([
    { key: "a", sectors: 3 },
    { key: "c", sectors: 7 },
  ]);
  assert.deepEqual(
    store.rings().map((r) => `${r.key}:${r.firstSector}+${r.sectorCount}`),
    ["a:2+3", "c:5+7"],
  );
});

test("records larger than a sector and malformed batches are refused before anything is written", () => {
  const { ring, flash } = setup();
  const ops = flash.operations;
  const big = new TestBatch(S * 2, 4);
  big.add(new Uint8Array(S));
  assert.throws(() => ring.append(big), "exceeds");
  assert.throws(
    () => ring.append({ bytes: new Uint8Array(10), ends: new Uint32Array([5, 20]), count: 2 }),
    "ends",
  );
  assert.throws(
    () => ring.append({ bytes: new Uint8Array(10), ends: new Uint32Array([5]), count: 2 }),
    "count",
  );
  assert.equal(flash.operations, ops);
  ring.append({ bytes: new Uint8Array(0), ends: new Uint32Array(0), count: 0 });
  assert.equal(flash.operations, ops, "an empty batch writes nothing");
  // The largest allowed record round-trips.
  const max = new TestBatch(S, 1);
  const record = new Random(3).bytes(ring.maxRecordBytes);
  max.add(record);
  ring.append(max);
  assert.deepEqual(ring.read(1)!.records[0], record);
});

test("a power cut while persisting the discard at open leaves the old or the new sync point", () => {
  for (let k = 0; k < 3; k++) {
    for (const tear of ["none", "prefix", "bits"] as const) {
      const { flash, ring } = setup();
      const batch = new TestBatch(8192, 256);
      fill(batch, 1, 30);
      ring.append(batch);
      ring.commit(10);
      flash.armPowerCut({ atOperation: flash.operations + k, tear, seed: k + 1 });
      let cut = false;
      try {
        const r = openRingStore({ flash }).ring(KEY)!;
        fill(batch, 200, 5);
        r.append(batch);
        r.commit(r.read(1000)!.lastSeq);
      } catch (error) {
        if (!(error instanceof PowerCutError)) throw error;
        cut = true;
      }
      assert.ok(cut, `operation ${k} never happened`);
      flash.reboot();
      const again = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
      assert.ok([10, 30, 35].includes(again.syncPoint), `sync point ${again.syncPoint}`);
      const chunk = again.read(1 << 20);
      if (again.syncPoint === 10)
        assert.deepEqual(
          chunk!.records.map(idOf).slice(0, 20),
          Array.from({ length: 20 }, (_, i) => 11 + i),
        );
      if (chunk) for (const r of chunk.records) assert.ok(idOf(r) > 10);
    }
  }
});

test("sequence numbers are 48-bit on flash and rebuilt from their low 32 bits", () => {
  const b = new Uint8Array(6);
  const big = 2 ** 40 + 12345;
  putU48(b, 0, big);
  assert.equal(getU48(b, 0), big);
  assert.equal(seqFromLow(2 ** 32 - 2, 3), 2 ** 32 + 3);
  assert.equal(seqFromLow(big, big % 2 ** 32), big);
  assert.equal(seqFromLow(5, 9), 9);
  assert.equal(SECTOR_HEADER_BYTES + FRAME_OVERHEAD_BYTES, 40);
});

test("ring sizes from cache_size_kb: whole sectors, at least 2, a default", () => {
  assert.equal(ringSectorsFor(undefined, 4096), (DEFAULT_RING_KB * 1024) / 4096);
  assert.equal(ringSectorsFor(10, 4096), 3);
  assert.equal(ringSectorsFor(1, 4096), 2);
  assert.equal(ringSectorsFor(-5, 4096), ringSectorsFor(undefined, 4096));
  assert.equal(ringSectorsFor(Number.NaN, 4096), ringSectorsFor(undefined, 4096));
});

test("random record sizes across many appends all read back exactly", () => {
  const { ring } = setup(20);
  const rng = new Random(77);
  const batch = new TestBatch(16384, 512);
  const sent: Uint8Array[] = [];
  for (let k = 0; k < 12; k++) {
    batch.clear();
    const n = 1 + rng.int(60);
    for (let i = 0; i < n; i++) {
      const r = randomRecord(rng, 0, 300);
      sent.push(r);
      batch.add(r);
    }
    ring.append(batch);
  }
  const chunk = ring.read(1 << 30)!;
  assert.equal(ring.counters().dropped, 0);
  assert.equal(chunk.records.length, sent.length);
  chunk.records.forEach((r, i) => {
    assert.deepEqual(r, sent[i], `record ${i}`);
  });
});

test("a sync point trailing its ring by more than 2^32 records persists exactly", () => {
  // Stage what ~500 days offline at 100 Hz leaves: a sector whose first record
  // is 2^33 + 5 while the sync point is still 3.
  const flash = new NorImage({ size: 8 * S, sectorSize: S });
  openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).close();
  const ringId = 1;
  encodeSectorHeader(flash.bytes, 2 * S, { ringId, sectorSeq: 7, firstSeq: 2 ** 33 + 5, syncPoint: 3 });
  const store = openRingStore({ flash, retainUnsynced: true });
  const ring = store.ring(KEY)!;
  assert.equal(ring.syncPoint, 3);
  assert.equal(ring.nextSequence, 2 ** 33 + 5);
  const batch = new TestBatch(1024, 16);
  fill(batch, 1, 4);
  ring.append(batch);
  ring.commit(2 ** 33 + 6);
  const again = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
  assert.equal(again.syncPoint, 2 ** 33 + 6);
  const chunk = again.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 2 ** 33 + 7);
  assert.deepEqual(chunk.records.map(idOf), [3, 4]);
  assert.equal(seqAtOrBelow(2 ** 33 + 6, (2 ** 33 + 6) % 2 ** 32), 2 ** 33 + 6);
  assert.equal(seqAtOrBelow(2 ** 33 + 6, 10), 2 ** 33 - 2 ** 32 + 10);
});

test("frame check: only exact, CRC-valid frames pass (padded lengths, short bodies, bad kinds fail)", () => {
  const build = (
    lengthBytes: number[],
    payload: number[],
    kind = FRAME_BATCH,
    count = lengthBytes.length,
  ) => {
    const b = new Uint8Array(64).fill(0xff);
    let p = 8;
    for (const x of lengthBytes) b[p++] = x;
    for (const x of payload) b[p++] = x;
    b[0] = kind;
    b[1] = count;
    putU16(b, 2, p - 8);
    putU32(b, 4, 1);
    return { b, end: sealFrame(b, 0, p) };
  };
  const ok = build([2, 1], [7, 8, 9]);
  assert.equal(checkFrame(ok.b, 0, 64), ok.end);
  assert.equal(ok.end, 8 + 2 + 3 + 4);
  assert.equal(checkFrame(ok.b, 0, ok.end - 1), -1, "runs past the limit");
  const padded = build([0x82, 0x00, 0x01], [7, 8, 9], FRAME_BATCH, 2);
  assert.equal(checkFrame(padded.b, 0, 64), -1, "padded LEB128 accepted");
  const short = build([2, 2], [7, 8, 9]);
  assert.equal(checkFrame(short.b, 0, 64), -1, "lengths overrun the body");
  const long = build([1, 1], [7, 8, 9]);
  assert.equal(checkFrame(long.b, 0, 64), -1, "body has bytes no record owns");
  assert.equal(checkFrame(build([1], [5], 0x42).b, 0, 64), -1, "unknown kind");
  assert.equal(checkFrame(build([], [], FRAME_BATCH, 0).b, 0, 64), -1, "empty batch");
  const flipped = build([2, 1], [7, 8, 9]);
  flipped.b[9]! ^= 4;
  assert.equal(checkFrame(flipped.b, 0, 64), -1, "CRC mismatch accepted");
  const sync = build([], [], FRAME_SYNC, 0);
  assert.equal(checkFrame(sync.b, 0, 64), 12);
});

test("reading chunk by chunk resumes where the last read stopped (each byte read about once)", () => {
  const { ring, flash } = setup(16, 24);
  const batch = new TestBatch(8192, 256);
  let id = 1;
  // Batches of 10 readings: frames small enough that a chunk need not re-read much.
  for (let k = 0; k < 100; k++) {
    fill(batch, id, 10);
    id += 10;
    ring.append(batch);
  }
  const before = flash.bytesRead;
  let after: number | undefined;
  let seen = 0;
  for (;;) {
    const chunk = ring.read(400, after); // 10 records per chunk: many chunks per sector
    if (!chunk) break;
    chunk.records.forEach((r, i) => {
      assert.equal(idOf(r), chunk.firstSeq + i);
    });
    seen += chunk.records.length;
    after = chunk.lastSeq;
  }
  assert.equal(seen, 1000);
  const read = flash.bytesRead - before;
  assert.ok(read < 1.5 * 1000 * 41, `${read} bytes read for 41000 bytes of records`);
  // Interleaved with appends and commits, resuming still returns exactly what follows.
  ring.commit(500);
  fill(batch, id, 5);
  ring.append(batch);
  const next = ring.read(1 << 20)!;
  assert.equal(next.firstSeq, 501);
  assert.equal(next.records.length, 505);
  assert.equal(idOf(next.records[504]!), 1005);
});

test("wear: erases spread evenly over the ring; sync points erase nothing and leave the layout sectors alone", () => {
  const { ring, flash } = setup(8, 16);
  const batch = new TestBatch(8192, 256);
  const layoutErases = flash.sectorErases[0]! + flash.sectorErases[1]!;
  let id = 1;
  for (let k = 0; k < 400; k++) {
    fill(batch, id, 25);
    id += 25;
    ring.append(batch);
    // A commit after every batch: the worst case for a sync-point store.
    ring.commit(ring.nextSequence - 1);
  }
  const ringErases = Array.from(flash.sectorErases.subarray(2, 10));
  const most = Math.max(...ringErases);
  const least = Math.min(...ringErases);
  assert.ok(least >= 3, `the ring did not wrap enough: ${ringErases}`);
  assert.ok(most - least <= 1, `uneven wear ${ringErases}`);
  assert.equal(
    flash.sectorErases[0]! + flash.sectorErases[1]!,
    layoutErases,
    "commits touched the layout sectors",
  );
  // Every erase was needed for data: 400 commits cost no more erases than the records' bytes call
  // for, plus one per ring sector at its first use (a sector that reads erased is erased anyway).
  const bytes = 400 * (12 + 25 * 41 + 12);
  assert.ok(
    flash.erases - layoutErases <= Math.ceil(bytes / (S - SECTOR_PREFIX_BYTES)) + 8,
    `${flash.erases} erases`,
  );
});

test("bytesPending: unsynced record space, 0 once synced, ≥ capacityBytes exactly when the ring is full", () => {
  const { ring, flash } = setup(8);
  const room = S - SECTOR_HEADER_BYTES;
  const batch = new TestBatch(8192, 256);
  assert.equal(ring.counters().bytesPending, 0);
  // One frame of ten 40-byte records (41 flash bytes each) in the head sector: exact.
  fill(batch, 1, 10);
  ring.append(batch);
  assert.equal(ring.counters().bytesPending, 10 * 41 + FRAME_OVERHEAD_BYTES);
  // Acknowledged records stop counting; the flash they sit in is not erased, so bytesUsed stays.
  let used = ring.counters().bytesUsed;
  ring.commit(ring.read(1 << 20)!.lastSeq);
  assert.equal(ring.counters().bytesPending, 0, "fully synced: nothing pending");
  assert.ok(ring.counters().bytesUsed >= used, "bytesUsed is written space, not pending space");
  // Several sectors, then half of them acknowledged: the pending share follows.
  let id = 11;
  for (let k = 0; k < 4; k++) {
    fill(batch, id, 90);
    id += 90;
    ring.append(batch);
  }
  const four = ring.counters();
  assert.equal(four.pending, 360);
  assert.ok(
    four.bytesPending >= 360 * 41 && four.bytesPending <= 360 * 41 + 4 * (FRAME_OVERHEAD_BYTES + 2 * 41),
    `360 records of 41 flash bytes (plus frames and sector tails): ${four.bytesPending}`,
  );
  ring.commit(ring.read(180 * 40)!.lastSeq);
  const half = ring.counters();
  assert.equal(half.pending, 180);
  assert.ok(
    Math.abs(half.bytesPending - four.bytesPending / 2) <= room / 2,
    `half the records pending, about half the bytes: ${half.bytesPending} of ${four.bytesPending}`,
  );
  // A reboot that keeps unsynced records reports the same pending space.
  const reopened = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
  assert.equal(reopened.counters().bytesPending, half.bytesPending);
  // Never synced again: the ring fills. Until it must overwrite, it is under one sector past
  // its capacity; from the first overwrite on, it is at or over 100%.
  const capacity = reopened.counters().capacityBytes;
  assert.equal(capacity, 7 * room);
  let sawFull = false;
  while (reopened.counters().dropped === 0) {
    const c = reopened.counters();
    assert.ok(c.bytesPending <= capacity + room, `${c.bytesPending} pending in a ${capacity}-byte ring`);
    if (c.bytesPending >= capacity) sawFull = true;
    fill(batch, id, 30);
    id += 30;
    reopened.append(batch);
  }
  assert.ok(sawFull || reopened.counters().bytesPending >= capacity);
  for (let k = 0; k < 10; k++) {
    fill(batch, id, 30);
    id += 30;
    reopened.append(batch);
    const c = reopened.counters();
    assert.ok(
      c.bytesPending >= capacity && c.bytesPending <= capacity + room,
      `full ring: ${c.bytesPending} of ${capacity}`,
    );
  }
  used = reopened.counters().bytesUsed;
  assert.ok(used > capacity, "bytesUsed counts headers and acknowledged space: it exceeds capacityBytes");
  reopened.commit(reopened.read(1 << 30)!.lastSeq);
  assert.equal(reopened.counters().bytesPending, 0);
  assert.ok(reopened.counters().bytesUsed >= used);
});
