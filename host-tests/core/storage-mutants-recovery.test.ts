// Open on images written byte by byte: the live-run chain rule (strictly
// falling sector sequences), stale headers outside the run, a head sector
// filled to its last byte, sync frames that claim too much, and unit counts
// rebuilt from sectors without a units mark (format 1.0), wrapped or not,
// with the sync point in every kind of place.

import type { FlashRing, RingPlacement } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import { SECTOR_HEADER_BYTES } from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { TestBatch } from "../support/flash-scenario";
import { craftSector, firstByteUnits, unitRecords } from "./storage-mutants-fixtures";

const S = 512;
const KEY = "sensor/a/Readings";

function fresh(sectors: number): { flash: NorImage; place: RingPlacement } {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors }] });
  const place = store.storedLayout()[0]!;
  store.close();
  return { flash, place };
}

function open(flash: NorImage, retainUnsynced = true) {
  return openRingStore({ flash, retainUnsynced, recordUnits: firstByteUnits });
}

/** Every pending record as [seq, first byte], read with a large budget. */
function pending(ring: FlashRing): number[][] {
  const out: number[][] = [];
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) return out;
    chunk.records.forEach((r, i) => {
      out.push([chunk.firstSeq + i, r[0]!]);
    });
    after = chunk.lastSeq;
  }
}

function batchOf(list: Uint8Array[]): TestBatch {
  const b = new TestBatch(8192, 256);
  for (const r of list) b.add(r);
  return b;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const u = (seq: number) => (seq * 7) % 31;
const unitsBetween = (from: number, to: number) => {
  let total = 0;
  for (let s = from; s <= to; s++) total += u(s);
  return total;
};

test("a sector whose sequence equals the tail's is not part of the run, and is erased before reuse", () => {
  const { flash, place } = fresh(4);
  // Sector 3: same sector sequence as sector 0, older records: not in the chain 0 → 1.
  craftSector(flash, place, {
    index: 3,
    sectorSeq: 6,
    firstSeq: 1,
    mark: unitsBetween(1, 0),
    frames: [{ records: unitRecords(1, 9, 20, u) }],
  });
  craftSector(flash, place, {
    index: 0,
    sectorSeq: 6,
    firstSeq: 10,
    mark: unitsBetween(1, 9),
    frames: [{ records: unitRecords(10, 3, 20, u) }],
  });
  craftSector(flash, place, {
    index: 1,
    sectorSeq: 7,
    firstSeq: 13,
    mark: unitsBetween(1, 12),
    frames: [{ records: unitRecords(13, 2, 20, u) }],
  });
  let store = open(flash);
  let ring = store.ring(KEY)!;
  assert.deepEqual(
    pending(ring).map((p) => p[0]),
    [10, 11, 12, 13, 14],
  );
  assert.equal(ring.counters().pending, 5);
  // Fill sectors 1, 2 and 3: sector 3 is reused (erased first), nothing of the run is dropped.
  const more = unitRecords(15, 25, 30, u);
  for (const r of more) ring.append(batchOf([r]));
  assert.equal(ring.counters().dropped, 0, "no record of the run was dropped");
  assert.deepEqual(
    pending(ring).map((p) => p[0]),
    Array.from({ length: 30 }, (_, i) => 10 + i),
  );
  store.close();
  store = open(flash);
  ring = store.ring(KEY)!;
  assert.equal(pending(ring).length, 30, "after a reboot too");
});

test("a stale sector ahead of the head is erased when the ring reaches it, not the oldest live one", () => {
  const { flash, place } = fresh(4);
  // Run: sector 0 (seq 3) → 1 (seq 4). Sector 2 holds a header of this ring with a lower
  // sequence and older records (a stale header left by a torn erase, say).
  craftSector(flash, place, {
    index: 2,
    sectorSeq: 1,
    firstSeq: 1,
    mark: unitsBetween(1, 0),
    frames: [{ records: unitRecords(1, 4, 20, u) }],
  });
  craftSector(flash, place, {
    index: 0,
    sectorSeq: 3,
    firstSeq: 5,
    mark: unitsBetween(1, 4),
    frames: [{ records: unitRecords(5, 4, 20, u) }],
  });
  craftSector(flash, place, {
    index: 1,
    sectorSeq: 4,
    firstSeq: 9,
    mark: unitsBetween(1, 8),
    frames: [{ records: unitRecords(9, 4, 20, u) }],
  });
  const store = open(flash);
  const ring = store.ring(KEY)!;
  assert.deepEqual(
    pending(ring).map((p) => p[0]),
    [5, 6, 7, 8, 9, 10, 11, 12],
  );
  const erasesBefore = flash.erases;
  // Enough to fill sector 1 and open sector 2.
  for (const r of unitRecords(13, 16, 30, u)) ring.append(batchOf([r]));
  assert.equal(flash.erases - erasesBefore, 1, "sector 2 erased once");
  assert.equal(
    flash.sectorErases[place.firstSector + 2],
    2,
    "the erase hit sector 2 (crafted once, reused once)",
  );
  assert.equal(ring.counters().dropped, 0);
  assert.equal(pending(ring).length, 8 + 16);
  assert.equal(ring.census().units, unitsBetween(5, 28));
});

test("a head sector whose last frame ends exactly at the sector's end: its sync point counts and nothing is corrupt", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  let store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: KEY, sectors: 4 }] });
  let ring = store.ring(KEY)!;
  // 40 bytes of header and units mark + one frame of 12 + 4 × (1 + 111) bytes = 500: 12 bytes left.
  ring.append(batchOf(unitRecords(1, 4, 111, u)));
  store.close();
  store = openRingStore({ flash, retainUnsynced: true });
  ring = store.ring(KEY)!;
  assert.equal(ring.counters().pending, 4);
  const erases = flash.erases;
  ring.commit(4); // the sync frame fills the last 12 bytes of the head sector
  assert.equal(flash.erases, erases, "no new sector for a sync frame that fits exactly");
  const end = (ring.firstSector + 1) * S;
  assert.ok(
    flash.bytes.subarray(end - 12, end).some((b) => b !== 0xff),
    "the sync frame is the sector's last 12 bytes",
  );
  store.close();
  for (const retain of [true, false]) {
    store = openRingStore({ flash, retainUnsynced: retain });
    ring = store.ring(KEY)!;
    assert.equal(ring.syncPoint, 4, "the sync frame at the very end is read");
    const c = ring.counters();
    assert.deepEqual([c.pending, c.discarded, c.retained, c.corrupt], [0, 0, 0, 0]);
    assert.equal(ring.nextSequence, 5);
    store.close();
  }
  // The next record opens sector 1 and reads back.
  store = openRingStore({ flash, retainUnsynced: true });
  ring = store.ring(KEY)!;
  ring.append(batchOf(unitRecords(5, 1, 10, u)));
  assert.deepEqual(
    pending(ring).map((p) => p[0]),
    [5],
  );
});

test("a sync frame naming a record after the last one before it is not taken", () => {
  const { flash, place } = fresh(4);
  craftSector(flash, place, {
    index: 0,
    sectorSeq: 1,
    firstSeq: 1,
    mark: unitsBetween(1, 0),
    frames: [{ records: unitRecords(1, 3, 20, u) }, { sync: 4 }, { sync: 5 }],
  });
  const store = open(flash);
  const ring = store.ring(KEY)!;
  assert.equal(ring.syncPoint, 0);
  assert.equal(ring.nextSequence, 4, "numbering continues after the last record");
  assert.deepEqual(
    pending(ring).map((p) => p[0]),
    [1, 2, 3],
  );
});

interface UnitsCase {
  name: string;
  sectors: number;
  /**
   * [index, sectorSeq, firstSeq, record count, marked, oddity] in run order (tail first). Oddities:
   * "sync-first": a sync frame right after the header, where a mark would be (format 1.0 allowed it);
   * "torn-mark": the mark's value damaged after the fact (its CRC fails).
   */
  run: [number, number, number, number, boolean, ("sync-first" | "torn-mark")?][];
  /** Sync point: from the head's header, or (when `syncFrame`) from a sync frame after the head's records. */
  sync: number;
  syncFrame?: boolean;
}

function craftRun(c: UnitsCase, markAll = false): NorImage {
  const { flash, place } = fresh(c.sectors);
  for (const [index, sectorSeq, firstSeq, count, markedHere, oddity] of c.run) {
    const marked = markedHere || markAll;
    const isHead = index === c.run[c.run.length - 1]![0];
    const frames: ({ records: Uint8Array[] } | { sync: number })[] = [];
    if (oddity === "sync-first") frames.push({ sync: Math.min(c.sync, firstSeq - 1) });
    // Two frames per sector when it holds more than 3 records.
    const records = unitRecords(firstSeq, count, 12, u);
    if (count > 3) frames.push({ records: records.slice(0, 3) }, { records: records.slice(3) });
    else if (count > 0) frames.push({ records });
    if (isHead && c.syncFrame) frames.push({ sync: c.sync });
    craftSector(flash, place, {
      index,
      sectorSeq,
      firstSeq,
      syncPoint: isHead && !c.syncFrame ? c.sync : Math.min(c.sync, firstSeq - 1),
      frames,
      ...(marked ? { mark: unitsBetween(1, firstSeq - 1) % 4294967296 } : {}),
    });
    if (oddity === "torn-mark")
      flash.bytes[(place.firstSector + index) * S + SECTOR_HEADER_BYTES + 4] ^= 0x5a;
  }
  return flash;
}

const UNIT_CASES: UnitsCase[] = [
  {
    name: "format-1.0 sectors opening with a sync frame",
    sectors: 5,
    run: [
      [0, 1, 10, 8, false, "sync-first"],
      [1, 2, 18, 8, false],
      [2, 3, 26, 8, false, "sync-first"],
      [3, 4, 34, 5, true],
    ],
    sync: 20,
    syncFrame: true,
  },
  {
    name: "no marks anywhere, sync in the middle sector",
    sectors: 5,
    run: [
      [0, 1, 1, 8, false],
      [1, 2, 9, 8, false],
      [2, 3, 17, 8, false],
      [3, 4, 25, 5, false],
    ],
    sync: 12,
    syncFrame: true,
  },
  {
    name: "no marks, wrapped run, sync in the tail",
    sectors: 4,
    run: [
      [2, 5, 31, 8, false],
      [3, 6, 39, 8, false],
      [0, 7, 47, 8, false],
      [1, 8, 55, 4, false],
    ],
    sync: 33,
  },
  {
    name: "marked tail, unmarked middle and head, sync in the head",
    sectors: 5,
    run: [
      [1, 3, 20, 8, true],
      [2, 4, 28, 8, false],
      [3, 5, 36, 8, false],
    ],
    sync: 38,
    syncFrame: true,
  },
  {
    name: "marked head, unmarked before it, sync at a sector edge",
    sectors: 5,
    run: [
      [4, 9, 70, 8, false],
      [0, 10, 78, 8, false],
      [1, 11, 86, 8, true],
      [2, 12, 94, 3, true],
    ],
    sync: 85,
  },
  {
    name: "marked middle only, sync below the tail (its records dropped)",
    sectors: 5,
    run: [
      [0, 2, 10, 8, false],
      [1, 3, 18, 8, true],
      [2, 4, 26, 8, false],
      [3, 5, 34, 2, false],
    ],
    sync: 5,
  },
  {
    name: "no marks, empty head, sync just before it",
    sectors: 4,
    run: [
      [0, 1, 1, 8, false],
      [1, 2, 9, 8, false],
      [2, 3, 17, 0, false],
    ],
    sync: 16,
  },
];

for (const c of UNIT_CASES) {
  test(`units rebuilt without marks: ${c.name}: census, reads and commits agree with the records`, () => {
    const flash = craftRun(c);
    const tailFirst = c.run[0]![2];
    const head = c.run[c.run.length - 1]!;
    const last = head[2] + head[3] - 1;
    const floor = Math.max(c.sync, tailFirst - 1);
    let store = open(flash);
    let ring = store.ring(KEY)!;
    assert.equal(ring.nextSequence, last + 1);
    assert.deepEqual(ring.census(), {
      records: last - floor,
      units: unitsBetween(floor + 1, last),
      lastSeq: last,
    });
    assert.deepEqual(
      pending(ring),
      Array.from({ length: last - floor }, (_, i) => [floor + 1 + i, u(floor + 1 + i)]),
    );
    // Commit in steps: a read then its last record (the read's own count), then a record no read ended at.
    let sync = floor;
    while (sync < last) {
      const chunk = ring.read(30, sync)!;
      ring.commit(chunk.lastSeq);
      sync = chunk.lastSeq;
      assert.deepEqual(ring.census(), {
        records: last - sync,
        units: unitsBetween(sync + 1, last),
        lastSeq: last,
      });
      if (sync + 2 <= last) {
        sync += 2;
        ring.commit(sync);
        assert.deepEqual(ring.census(), {
          records: last - sync,
          units: unitsBetween(sync + 1, last),
          lastSeq: last,
        });
      }
      if (sync === floor + 5 || sync === floor + 6) {
        // Reopen mid-way: the unit counts are rebuilt again, around the new sync point.
        store.close();
        store = open(flash);
        ring = store.ring(KEY)!;
        assert.deepEqual(ring.census(), {
          records: last - sync,
          units: unitsBetween(sync + 1, last),
          lastSeq: last,
        });
      }
    }
    // New records count on top of what was rebuilt.
    ring.append(batchOf(unitRecords(last + 1, 3, 12, u)));
    assert.deepEqual(ring.census(), {
      records: 3,
      units: unitsBetween(last + 1, last + 3),
      lastSeq: last + 3,
    });
  });
}

test("a census and a commit of the last record right after an append read no flash", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }], recordUnits: firstByteUnits });
  const ring = store.ring(KEY)!;
  ring.append(batchOf(unitRecords(1, 30, 20, u)));
  const reads = flash.readOps;
  assert.equal(ring.census().units, unitsBetween(1, 30));
  ring.commit(30);
  assert.equal(flash.readOps, reads, "commit of everything takes the count from RAM");
  ring.append(batchOf(unitRecords(31, 5, 20, u)));
  const chunk = ring.read(60)!;
  const before = flash.readOps;
  ring.commit(chunk.lastSeq);
  assert.equal(flash.readOps, before, "commit right after a read takes the read's count");
  assert.equal(ring.census().units, unitsBetween(chunk.lastSeq + 1, 35));
});

test("a commit inside the head sector reads only the head's written bytes", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }], recordUnits: firstByteUnits });
  const ring = store.ring(KEY)!;
  ring.append(batchOf(unitRecords(1, 6, 10, u)));
  ring.append(batchOf(unitRecords(7, 6, 10, u)));
  const written = ring.counters().bytesUsed;
  assert.ok(written < S / 2);
  const before = flash.bytesRead;
  ring.commit(3);
  assert.ok(
    flash.bytesRead - before <= written,
    `read ${flash.bytesRead - before} bytes for ${written} written`,
  );
  assert.equal(ring.census().units, unitsBetween(4, 12));
});

test("open reads nothing of the sectors wholly below the sync point's, marked or not", () => {
  const c = UNIT_CASES.find((x) => x.name.startsWith("marked head, unmarked before it"))!;
  const cost = (markAll: boolean) => {
    const flash = craftRun(c, markAll);
    const store = open(flash);
    const census = store.ring(KEY)!.census();
    store.close();
    return { read: store.openReport.bytesRead, census };
  };
  const asIs = cost(false);
  const marked = cost(true);
  assert.deepEqual(asIs.census, marked.census);
  assert.equal(asIs.read, marked.read, "the unmarked sectors below the sync point were read");
});

test("a units mark damaged after the fact: that sector's records still read, and the census counts them", () => {
  // Sector 1 holds the sync point (20) and records 21..25 after it; its mark's value byte rots. The frames
  // after a damaged mark are read all the same (docs/storage.md): nothing readable is lost or called corrupt.
  const flash = craftRun({
    name: "torn mark",
    sectors: 5,
    run: [
      [0, 1, 10, 8, true],
      [1, 2, 18, 8, true, "torn-mark"],
      [2, 3, 26, 8, false],
      [3, 4, 34, 5, true],
    ],
    sync: 20,
  });
  const store = open(flash);
  const ring = store.ring(KEY)!;
  const readable = pending(ring);
  assert.deepEqual(
    readable.map((p) => p[0]),
    range(21, 38),
  );
  assert.equal(ring.counters().corrupt, 0);
  assert.equal(ring.census().units, unitsBetween(21, 38), "the units of every pending record");
});
