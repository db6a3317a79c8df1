// The boot census (issue 10): pending records and what they count for
// (readings, for capture's blocks) come from what open reads anyway, the
// headers with their units marks, plus the head sector and the sector holding
// the sync point, never from reading every record. Partitions written before
// units marks existed still open, and their census is still exact (those
// sectors are read once, at open).

import { BLOCK_MAGIC, OFFSET_COUNT, OFFSET_KIND } from "../../modules/capture/block-format";
import { simulatedModels } from "../../modules/capture/simulated";
import { readingCount } from "../../modules/capture/transcoder";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { DataManager } from "../../modules/manager/data-manager";
import { blockReadings } from "../../modules/manager/reading-census";
import { silentLogger } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import {
  encodeSectorHeader,
  FRAME_BATCH,
  FRAME_HEAD_BYTES,
  putU16,
  putU32,
  SECTOR_HEADER_BYTES,
  sealFrame,
} from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import type { Ring } from "../../modules/storage/types";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { TestBatch } from "../support/flash-scenario";

/** A block-like record: its first two bytes say how many readings it holds. */
function blockUnits(b: Uint8Array, start: number, end: number): number {
  return end - start >= 2 ? b[start]! | (b[start + 1]! << 8) : 1;
}

function block(readings: number, size: number, fill: number): Uint8Array {
  const r = new Uint8Array(size).fill(fill & 0xff);
  r[0] = readings & 0xff;
  r[1] = readings >>> 8;
  return r;
}

/** What a census by reading every pending record (the data manager's old way) finds. */
function countByReading(ring: Ring): { records: number; units: number } {
  let records = 0;
  let units = 0;
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(8192, after);
    if (!chunk) return { records, units };
    for (const r of chunk.records) units += blockUnits(r, 0, r.length);
    records += chunk.records.length;
    after = chunk.lastSeq;
  }
}

const KEYS = ["sensor/a/Readings", "sensor/b/Readings", "sensor/c/Readings", "sensor/d/Readings"];

test("a full 1 MiB partition: open + census + discard read at most 64 KB, and the census is exact", () => {
  const S = 4096;
  const flash = new NorImage({ size: 1 << 20, sectorSize: S });
  const layout = KEYS.map((key) => ({ key, sectors: 63 }));
  let store = openRingStore({ flash, layout, recordUnits: blockUnits, retainUnsynced: true });
  const batch = new TestBatch(4096, 4);
  let n = 0;
  for (const key of KEYS) {
    const ring = store.ring(key)!;
    // 63 sectors of ~1 KB blocks, then some more: every sector live, the ring wrapped.
    for (let i = 0; i < 300; i++) {
      batch.clear();
      batch.add(block(50 + (n++ % 150), 900 + (i % 7) * 20, i));
      ring.append(batch);
      // The cloud acknowledged the first part: the sync point sits inside a sector.
      if (i === 120) ring.commit(ring.nextSequence - 40);
    }
  }
  const expected = KEYS.map((key) => countByReading(store.ring(key)!));
  store.close();

  flash.resetCounters();
  store = openRingStore({ flash, recordUnits: blockUnits, retainUnsynced: true });
  const censuses = KEYS.map((key) => store.ring(key)!.census());
  // What the data manager does before capture starts under the default rule: discard the backlog.
  KEYS.forEach((key, i) => {
    store.ring(key)!.commit(censuses[i]!.lastSeq);
  });
  const bootRead = flash.bytesRead;
  assert.ok(bootRead <= 64 * 1024, `boot read ${bootRead} bytes of a full 1 MiB partition`);
  // The store counts what it read at open itself (what a bench reports on a device).
  assert.ok(store.openReport.bytesRead > 0 && store.openReport.bytesRead <= bootRead, "openReport.bytesRead");
  assert.equal(store.bytesRead, bootRead, "the store's own count matches the chip's");
  KEYS.forEach((key, i) => {
    assert.equal(censuses[i]!.records, expected[i]!.records, `${key} records`);
    assert.equal(censuses[i]!.units, expected[i]!.units, `${key} readings`);
    assert.ok(censuses[i]!.units > 10_000, `${key} holds a real backlog: ${censuses[i]!.units}`);
  });
  store.close();
  store = openRingStore({ flash, recordUnits: blockUnits, retainUnsynced: true });
  assert.equal(store.ring(KEYS[0]!)!.census().records, 0, "the discard was persisted");
});

test("the census follows appends, commits and full-ring drops without reading flash", () => {
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({
    flash,
    layout: [{ key: KEYS[0]!, sectors: 3 }],
    recordUnits: blockUnits,
    retainUnsynced: true,
  });
  const ring = store.ring(KEYS[0]!)!;
  const batch = new TestBatch(4096, 8);
  for (let i = 0; i < 40; i++) {
    batch.clear();
    batch.add(block(i + 1, 60, i));
    batch.add(block(2 * i, 30, i));
    ring.append(batch);
    if (i % 7 === 3) ring.commit(ring.read(150)!.lastSeq);
    const before = flash.bytesRead;
    const c = ring.census();
    assert.equal(flash.bytesRead, before, "census reads nothing");
    const truth = countByReading(ring);
    assert.equal(c.records, truth.records, `step ${i}: records`);
    assert.equal(c.units, truth.units, `step ${i}: units`);
  }
  assert.ok(ring.counters().dropped > 0, "the ring wrapped over unsynced records");
});

test("commits right after reads of every size (resumed, mid-frame, across sectors) keep the census exact", () => {
  // A commit at the end of a read takes its unit count from that read (no flash read, no second CRC pass):
  // the count must be what reading the sector again would give, wherever the read started and stopped.
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({
    flash,
    layout: [{ key: KEYS[0]!, sectors: 6 }],
    recordUnits: blockUnits,
    retainUnsynced: true,
  });
  const ring = store.ring(KEYS[0]!)!;
  const batch = new TestBatch(4096, 8);
  let step = 0;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 9; i++) {
      batch.clear();
      // Three records per frame, so that a budget can stop inside a frame.
      for (let k = 0; k < 3; k++) batch.add(block(1 + ((round * 31 + i * 7 + k * 3) % 23), 20 + k * 9, i));
      ring.append(batch);
    }
    // Reads of 1..5 records' worth, each committed at once; some read twice before the commit.
    for (let budget = 1; ; budget = (budget % 5) + 1) {
      const chunk = ring.read(budget * 25);
      if (!chunk) break;
      if (step % 3 === 1) ring.read(budget * 10);
      ring.commit(chunk.lastSeq);
      step++;
      const c = ring.census();
      const truth = countByReading(ring);
      assert.equal(c.units, truth.units, `step ${step}: units`);
      assert.equal(c.records, truth.records, `step ${step}: records`);
      if (step % 4 === 0) {
        // And the sync point's unit count persisted with it: a reopened store agrees.
        const again = openRingStore({
          flash,
          layout: [{ key: KEYS[0]!, sectors: 6 }],
          recordUnits: blockUnits,
          retainUnsynced: true,
        });
        assert.equal(again.ring(KEYS[0]!)!.census().units, truth.units, `step ${step}: after reopen`);
        again.close();
      }
    }
  }
  assert.ok(step > 30);
});

test("a partition written before units marks existed opens, and its census is exact", () => {
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const key = KEYS[1]!;
  let store = openRingStore({ flash, layout: [{ key, sectors: 4 }] });
  const ring = store.ring(key)!;
  const ringId = ring.ringId;
  const first = ring.firstSector;
  store.close();
  // Format 1.0 sectors, written by hand: header, then batch frames (no units mark).
  let seq = 1;
  let total = 0;
  for (let s = 0; s < 3; s++) {
    const b = flash.bytes.subarray((first + s) * S, (first + s + 1) * S);
    encodeSectorHeader(b, 0, { ringId, sectorSeq: s + 1, firstSeq: seq, syncPoint: 0 });
    let p = SECTOR_HEADER_BYTES;
    for (let f = 0; f < 4; f++) {
      const record = block(10 * s + f + 1, 80, seq);
      b[p] = FRAME_BATCH;
      b[p + 1] = 1;
      putU16(b, p + 2, 1 + record.length);
      putU32(b, p + 4, seq);
      b[p + FRAME_HEAD_BYTES] = record.length;
      b.set(record, p + FRAME_HEAD_BYTES + 1);
      p = sealFrame(b, p, p + FRAME_HEAD_BYTES + 1 + record.length);
      total += 10 * s + f + 1;
      seq++;
    }
  }
  store = openRingStore({ flash, recordUnits: blockUnits, retainUnsynced: true });
  let old = store.ring(key)!;
  assert.equal(old.counters().pending, 12, "the old records are all there");
  assert.deepEqual(old.census(), { records: 12, units: total, lastSeq: 12 });
  // New sectors carry marks; the mix keeps an exact census across a reopen and a commit.
  const batch = new TestBatch(4096, 4);
  batch.add(block(7, 300, 1));
  old.append(batch);
  old.append(batch);
  old.commit(5);
  const truth = countByReading(old);
  assert.equal(old.census().units, truth.units);
  store.close();
  store = openRingStore({ flash, recordUnits: blockUnits, retainUnsynced: true });
  old = store.ring(key)!;
  assert.deepEqual(old.census(), { records: truth.records, units: truth.units, lastSeq: 14 });
});

test("data manager boot on a full 1 MiB partition: everything before capture starts reads at most 64 KB", () => {
  const S = 4096;
  const flash = new NorImage({ size: 1 << 20, sectorSize: S });
  const keys = KEYS.map((k) => `rdk:component:sensor/${k.split("/")[1]}/Readings`);
  // Written as the data manager writes: the same units function on every open.
  const store = openRingStore({
    flash,
    layout: keys.map((key) => ({ key, sectors: 63 })),
    recordUnits: blockReadings(readingCount),
  });
  const batch = new TestBatch(4096, 4);
  let readings = 0;
  for (const key of keys) {
    const ring = store.ring(key)!;
    for (let i = 0; i < 300; i++) {
      // A capture block's header: magic, kind, reading count (what the manager counts).
      const r = new Uint8Array(950).fill(i & 0xff);
      r[0] = BLOCK_MAGIC;
      r[OFFSET_KIND] = 1;
      const n = 80 + (i % 40);
      r[OFFSET_COUNT] = n;
      r[OFFSET_COUNT + 1] = 0;
      batch.clear();
      batch.add(r);
      ring.append(batch);
      if (i === 150) ring.commit(ring.nextSequence - 30);
    }
    // Counted the old way, by reading every pending record.
    let after: number | undefined;
    for (let chunk = ring.read(8192); chunk; chunk = ring.read(8192, after)) {
      for (const record of chunk.records) readings += readingCount(record);
      after = chunk.lastSeq;
    }
  }
  store.close();
  flash.resetCounters();
  const clock = new FakeClock();
  const manager = new DataManager({
    flash,
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "p1",
    sender: { send: async () => {} },
    settings: parseMachineConfig({
      services: [{ name: "dm", api: "rdk:service:data_manager", attributes: {} }],
    }),
  });
  const bootRead = flash.bytesRead;
  assert.ok(bootRead <= 64 * 1024, `boot read ${bootRead} bytes`);
  const lost = manager.status().collectors.reduce((sum, c) => sum + c.lostAtBoot, 0);
  assert.equal(lost, readings, "the backlog discarded at boot is counted in readings, exactly");
  assert.ok(readings > 50_000, `a real backlog: ${readings} readings`);
});
