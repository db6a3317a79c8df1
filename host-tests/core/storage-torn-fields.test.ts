// Damage to one field of one sector (a units mark, a sector header, a frame) of a ring's tail, a
// middle sector or its head, found at reopen: every record that still passes its CRC is returned
// and counted, nothing valid is counted corrupt, a sequence number a reader may have seen is never
// given to other data, and later appends never program over written bytes (docs/storage.md).

import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import { encodeSectorHeader, SECTOR_HEADER_BYTES } from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "rdk:component:sensor/s/Readings";
const SECTORS = 8;
/** 40-byte records, one per append: 8 per sector (12 + 1 + 40 bytes each after the 40-byte prefix). */
const SIZE = 40;
const PER_SECTOR = 8;

/** Record `id`: its first byte is the id (what `recordUnits` counts), the rest a pattern of it. */
function record(id: number): Uint8Array {
  const r = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) r[i] = (id * 13 + i * 7) & 0xff;
  r[0] = id & 0xff;
  r[1] = id >>> 8;
  return r;
}

const recordUnits = (b: Uint8Array, start: number): number => b[start]!;

function open(flash: NorImage, log = new RecordingLogger()): FlashRing {
  return openRingStore({
    flash,
    log,
    layout: [{ key: KEY, sectors: SECTORS }],
    recordUnits,
    retainUnsynced: true,
  }).ring(KEY)!;
}

function appendOne(ring: FlashRing, id: number): void {
  const batch = new TestBatch(SIZE, 1);
  batch.add(record(id));
  ring.append(batch);
}

/** Every pending record with its sequence number, read one at a time (exact across gaps). */
function readAll(ring: FlashRing): { seq: number; bytes: Uint8Array }[] {
  const out: { seq: number; bytes: Uint8Array }[] = [];
  let after: number | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const one = ring.read(0, after);
    if (!one) break;
    out.push({ seq: one.firstSeq, bytes: one.records[0]! });
    after = one.firstSeq;
  }
  return out;
}

const idOf = (bytes: Uint8Array): number => bytes[0]! | (bytes[1]! << 8);
const sum = (ids: number[]): number => ids.reduce((a, b) => a + b, 0);
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Byte offset in a sector of the last record's frame (records fill sectors from the 40-byte prefix). */
function frameAt(slot: number): number {
  return SECTOR_HEADER_BYTES + 12 + slot * (12 + 1 + SIZE);
}

type Where = "tail" | "middle" | "head";

interface Damage {
  name: string;
  /** Byte to flip, relative to the sector start; `slot` is the last record slot used in that sector. */
  at: (slot: number) => number;
  /** Record lost with the damage (the sector's records lose the one at `slot`). */
  losesRecord: boolean;
  /**
   * The head sector's records are lost (not its numbers): a head whose header no longer names this
   * ring could be another ring's old sector that happens to continue the same numbers.
   */
  losesHeadSector?: boolean;
  /** Counted in `corrupt`. */
  corrupt: number;
}

const DAMAGES: Damage[] = [
  { name: "units mark value", at: () => SECTOR_HEADER_BYTES + 4, losesRecord: false, corrupt: 0 },
  { name: "units mark kind", at: () => SECTOR_HEADER_BYTES, losesRecord: false, corrupt: 0 },
  { name: "units mark CRC", at: () => SECTOR_HEADER_BYTES + 9, losesRecord: false, corrupt: 0 },
  { name: "header magic", at: () => 0, losesRecord: false, corrupt: 1 },
  { name: "header ring id", at: () => 4, losesRecord: false, losesHeadSector: true, corrupt: 1 },
  { name: "header sector sequence", at: () => 8, losesRecord: false, corrupt: 1 },
  { name: "header first sequence", at: () => 12, losesRecord: false, corrupt: 1 },
  { name: "header sync point", at: () => 18, losesRecord: false, corrupt: 1 },
  { name: "header CRC", at: () => 25, losesRecord: false, corrupt: 1 },
  { name: "last frame payload", at: (slot) => frameAt(slot) + 12 + 5, losesRecord: true, corrupt: 1 },
  { name: "last frame count", at: (slot) => frameAt(slot) + 1, losesRecord: true, corrupt: 1 },
  { name: "last frame sequence", at: (slot) => frameAt(slot) + 4, losesRecord: true, corrupt: 1 },
];

/** Rings of 60 records (every sector live: the tail follows the head), of 36 (sectors 0..4) and of 5 (one sector). */
const FILLS = [60, 36, 5];

interface Case {
  /** Records 1..total appended one by one (8 per sector). */
  total: number;
  /** [ring sector, byte offset in it] of each bit flipped. */
  flips: [number, number][];
  /** Ids no longer readable. */
  lost: number[];
  corrupt: number;
  /** The head's header is damaged: it must be sealed. */
  headHeader: boolean;
  /** The damage touches the head sector (its lost records' numbers are skipped). */
  atHead: boolean;
}

/** Damages the image as `c` says after a reader saw every record, then checks the reopen, appends and a second reopen. */
function damageCase(c: Case): void {
  const { total, lost } = c;
  const flash = new NorImage({ size: (SECTORS + 4) * S, sectorSize: S });
  const ring = open(flash);
  for (let id = 1; id <= total; id++) appendOne(ring, id);
  // A reader sees every record (and may have uploaded it) before the damage.
  const seen = new Map(readAll(ring).map((r) => [r.seq, r.bytes]));
  assert.equal(seen.size, total);
  for (const [sector, offset] of c.flips) flash.bytes[(ring.firstSector + sector) * S + offset]! ^= 0x04;
  const before = flash.bytes.slice();
  const erasesBefore = flash.sectorErases.slice();

  const log = new RecordingLogger();
  const again = open(flash, log);
  const want = range(1, total).filter((id) => !lost.includes(id));
  const got = readAll(again);
  assert.deepEqual(
    got.map((r) => idOf(r.bytes)),
    want,
    `records returned (${log.lines.join(" | ")})`,
  );
  for (const r of got) assert.deepEqual(r.bytes, seen.get(r.seq), `record ${r.seq} is what was read before`);
  const counts = again.counters();
  assert.equal(counts.corrupt, c.corrupt, `corrupt (${log.lines.join(" | ")})`);
  if (c.headHeader) {
    assert.equal(again.writableWithoutErase(), 0, "nothing more goes into a head whose header is damaged");
  }
  // Numbers skipped past damage at the head: every number a lost record of the head had.
  if (c.atHead && lost.length > 0) {
    assert.ok(counts.skipped >= lost.length, `skipped ${counts.skipped}`);
    assert.ok(again.nextSequence > total, `numbering goes on after ${total}: ${again.nextSequence}`);
  }
  const census = again.census();
  assert.equal(census.records, counts.pending, "census records = pending");
  assert.ok(
    counts.pending >= want.length,
    `pending ${counts.pending} covers the ${want.length} readable records`,
  );
  // Units: every readable record counts; a lost record's units are known only from the marks.
  const units = sum(want);
  assert.ok(
    census.units === units || (lost.length > 0 && census.units === units + sum(lost)),
    `census units ${census.units}, readable ${units}`,
  );

  // Appends go on: never over written bytes, never under a number a reader may have seen.
  for (let id = 101; id <= 112; id++) appendOne(again, id);
  for (let i = 0; i < flash.bytes.length; i++) {
    const s = Math.floor(i / S);
    if (flash.sectorErases[s] !== erasesBefore[s]) continue;
    if (before[i] !== 0xff && flash.bytes[i] !== before[i]) {
      assert.ok(false, `byte ${i} (sector ${s}, offset ${i % S}) programmed over`);
    }
  }
  const after = readAll(again);
  const fresh = after.filter((r) => idOf(r.bytes) > 100);
  assert.deepEqual(
    fresh.map((r) => idOf(r.bytes)),
    range(101, 112),
    "new records read back",
  );
  for (const r of after) {
    const old = seen.get(r.seq);
    if (old) assert.deepEqual(r.bytes, old, `sequence ${r.seq} reused for other data`);
  }
  // Appending may have reused the oldest sectors (dropped, counted): the census follows what is pending.
  const units2 = sum(after.map((r) => idOf(r.bytes)));
  const lostPending = lost.filter((id) => id > again.nextSequence - 1 - again.counters().pending);
  const census2 = again.census();
  assert.ok(
    census2.units === units2 || (lostPending.length > 0 && census2.units === units2 + sum(lostPending)),
    `census units after appends ${census2.units}, readable ${units2}`,
  );

  // And once more across a reopen: the same records under the same numbers.
  const third = open(flash);
  const got3 = readAll(third);
  assert.deepEqual(
    got3.map((r) => [r.seq, idOf(r.bytes)]),
    after.map((r) => [r.seq, idOf(r.bytes)]),
    "same records, same numbers after another reopen",
  );
  assert.equal(third.census().units, census2.units, "census units after another reopen");
  for (const r of got3) {
    const old = seen.get(r.seq);
    if (old) assert.deepEqual(r.bytes, old, `sequence ${r.seq} reused for other data (second reopen)`);
  }
}

for (const total of FILLS) {
  const headSector = Math.ceil(total / PER_SECTOR) - 1;
  const sectorOf: Record<Where, number> = { tail: 0, middle: 2, head: headSector };
  const places: Where[] = total <= PER_SECTOR ? ["head"] : ["tail", "middle", "head"];
  for (const where of places) {
    for (const d of DAMAGES) {
      test(`${total} records, ${where} sector: damaged ${d.name}`, () => {
        const sector = sectorOf[where];
        const first = sector * PER_SECTOR + 1;
        const last = Math.min(total, first + PER_SECTOR - 1);
        damageCase({
          total,
          flips: [[sector, d.at(last - first)]],
          lost: d.losesRecord ? [last] : d.losesHeadSector && where === "head" ? range(first, last) : [],
          corrupt: d.corrupt,
          headHeader: where === "head" && d.at(0) < SECTOR_HEADER_BYTES,
          atHead: where === "head",
        });
      });
    }
  }
}

// Two headers damaged at once, side by side: the run still holds together (each counted once).
const PAIRS: { name: string; total: number; sectors: [number, number]; atHead: boolean }[] = [
  { name: "the tail and the sector after it", total: 60, sectors: [0, 1], atHead: false },
  { name: "the tail and the sector after it (ring not full)", total: 36, sectors: [0, 1], atHead: false },
  { name: "two middle sectors", total: 60, sectors: [2, 3], atHead: false },
  { name: "the head and the sector before it", total: 60, sectors: [6, 7], atHead: true },
  { name: "the head and the sector before it (ring not full)", total: 36, sectors: [3, 4], atHead: true },
  { name: "both sectors of a young ring", total: 12, sectors: [0, 1], atHead: true },
];
for (const p of PAIRS) {
  test(`${p.total} records: damaged headers of ${p.name}`, () => {
    damageCase({
      total: p.total,
      flips: p.sectors.map((s) => [s, 13] as [number, number]),
      lost: [],
      corrupt: 2,
      headHeader: p.atHead,
      atHead: p.atHead,
    });
  });
}

test("the head's next sector, its sector sequence field and first frame damaged: its numbers are skipped all the same", () => {
  // Sectors 0..4 hold 1..36; sector 4 (the head, 33..36) loses its sector sequence and its first frame.
  damageCase({
    total: 36,
    flips: [
      [4, 9],
      [4, frameAt(0) + 20],
    ],
    lost: range(33, 36),
    corrupt: 1,
    headHeader: false,
    atHead: true,
  });
});

test("a young ring's sector kept with a damaged header stays kept after numbering jumped past a lost next head", () => {
  // Sector 0 (1..8): header and last frame damaged; sector 1 (9..12): its ring id field damaged.
  // The appends after the reopen open sector 1 again more than a sector's worth of numbers later,
  // and the second reopen must still find sector 0 (before the new tail) as the ring's.
  damageCase({
    total: 12,
    flips: [
      [0, 13],
      [0, frameAt(7) + 20],
      [1, 4],
    ],
    lost: range(8, 12),
    corrupt: 2,
    headHeader: true,
    atHead: true,
  });
});

test("a damaged units mark costs one read of its sector at open; a healthy open reads headers and the head only", () => {
  const flash = new NorImage({ size: (SECTORS + 4) * S, sectorSize: S });
  const ring = open(flash);
  for (let id = 1; id <= 60; id++) appendOne(ring, id);
  const healthy = new NorImage({ size: flash.size, sectorSize: S, bytes: flash.bytes.slice() });
  const bytesOfOpen = (image: NorImage): number => {
    const before = image.bytesRead;
    const r = open(image);
    assert.equal(r.census().units, sum(range(1, 60)), "census units");
    return image.bytesRead - before;
  };
  const base = bytesOfOpen(healthy);
  // The layout record (two slots), then 40 bytes per sector of the partition's rings and the head.
  flash.bytes[(ring.firstSector + 0) * S + SECTOR_HEADER_BYTES + 4]! ^= 0x04;
  assert.equal(bytesOfOpen(flash), base + S, "one sector more, read once");
  const again = open(flash);
  const before = flash.bytesRead;
  assert.equal(again.census().units, sum(range(1, 60)));
  assert.equal(flash.bytesRead, before, "census from RAM");
});

test("numbers skipped past damage at the head are counted: across boots appended + skipped bound the rest", () => {
  const flash = new NorImage({ size: (SECTORS + 4) * S, sectorSize: S });
  const ring = open(flash);
  for (let id = 1; id <= 19; id++) appendOne(ring, id);
  ring.commit(10);
  appendOne(ring, 20);
  // Bit rot in the head's last frame (record 20, after the sync frame): records 11..19 stay pending.
  const head = (ring.firstSector + 2) * S;
  let end = head + S;
  while (flash.bytes[end - 1] === 0xff) end--;
  const frame = end - head - (12 + 1 + SIZE);
  flash.bytes[end - 10]! ^= 0x01;
  const log = new RecordingLogger();
  const again = open(flash, log);
  const c = again.counters();
  assert.equal(c.skipped, S - frame - 12, "as many numbers as the damaged bytes could hold");
  assert.equal(again.nextSequence, 20 + c.skipped);
  assert.ok(log.has(/sequence numbers 20\.\.\d+ are skipped/), log.lines.join("\n"));
  // appended (20) - acknowledged (10) + skipped = pending + the record lost to the damage (1).
  assert.equal(c.retained, c.pending);
  assert.equal(20 - 10 + c.skipped, c.pending + 1);
  assert.deepEqual(
    readAll(again).map((r) => r.seq),
    range(11, 19),
  );
  appendOne(again, 21);
  const fresh = readAll(again).at(-1)!;
  assert.equal(fresh.seq, 20 + c.skipped, "the next record takes the first number after the skipped ones");
  again.commit(fresh.seq);
  assert.equal(again.counters().pending, 0, "a commit past them settles the skipped numbers");
  const third = open(flash);
  assert.equal(third.counters().skipped, 0, "nothing skipped once the damage is behind the head");
  assert.equal(third.syncPoint, third.nextSequence - 1);
});

test("the tail's header and last frame both damaged: its other records are returned, the lost one stays pending", () => {
  const flash = new NorImage({ size: (SECTORS + 4) * S, sectorSize: S });
  const ring = open(flash);
  for (let id = 1; id <= 36; id++) appendOne(ring, id);
  const tail = (ring.firstSector + 0) * S;
  flash.bytes[tail + 9]! ^= 0x20;
  flash.bytes[tail + frameAt(PER_SECTOR - 1) + 20]! ^= 0x20;
  const again = open(flash);
  assert.deepEqual(
    readAll(again).map((r) => idOf(r.bytes)),
    range(1, 36).filter((id) => id !== PER_SECTOR),
  );
  assert.equal(again.counters().pending, 36, "record 8's number stays pending until a commit passes it");
  assert.equal(again.counters().corrupt, 1, "one damaged sector");
});

test("a header more than a lap older is never joined to the run across a sector without one", () => {
  // 4 sectors of 8 records: 72 records wrap twice (sector sequences 6..9: sectors 1, 2, 3 and 0, the head).
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const ring = openRingStore({
    flash,
    layout: [{ key: KEY, sectors: 4 }],
    recordUnits,
    retainUnsynced: true,
  }).ring(KEY)!;
  for (let id = 1; id <= 72; id++) appendOne(ring, id);
  const base = ring.firstSector;
  // Sector 3 (records 57..64) erased; sector 2 given the intact header it had a lap before (sequence 3).
  flash.eraseSector(base + 3);
  flash.eraseSector(base + 2);
  const b = new Uint8Array(SECTOR_HEADER_BYTES);
  encodeSectorHeader(b, 0, { ringId: ring.ringId, sectorSeq: 3, firstSeq: 17, syncPoint: 0 });
  flash.write((base + 2) * S, b);
  const again = openRingStore({ flash, recordUnits, retainUnsynced: true }).ring(KEY)!;
  // The run is sector 0 (65..72) alone: the erased sector 3 is not bridged to a stale header.
  assert.deepEqual(
    readAll(again).map((r) => idOf(r.bytes)),
    range(65, 72),
  );
  assert.equal(again.counters().pending, 8);
  assert.equal(again.counters().corrupt, 0);
});

test("a new ring never takes another ring's old sector as its own, even with a damaged header", () => {
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: "old", sectors: 4 }] });
  const old = store.ring("old")!;
  for (let id = 1; id <= 5; id++) appendOne(old, id);
  // The old ring goes; a new one takes its sectors (a fresh ring id) before writing anything.
  store.configure([{ key: KEY, sectors: 4 }]);
  const placed = store.ring(KEY)!;
  assert.equal(placed.firstSector, old.firstSector);
  store.close();
  flash.bytes[old.firstSector * S + 13]! ^= 0x01;
  const again = openRingStore({ flash, recordUnits, retainUnsynced: true }).ring(KEY)!;
  assert.equal(again.read(1 << 20), null, "the old ring's records are not the new ring's");
  assert.equal(again.counters().pending, 0);
});

test("the sync point held by the old head survives when the next head's header is damaged", () => {
  const flash = new NorImage({ size: (SECTORS + 4) * S, sectorSize: S });
  const ring = open(flash);
  for (let id = 1; id <= 6; id++) appendOne(ring, id);
  ring.commit(4);
  for (let id = 7; id <= 12; id++) appendOne(ring, id);
  assert.equal(ring.counters().bytesUsed > S, true, "records 9.. opened a second sector");
  // The second sector's header (its sync point field says 4 as well; damage makes it unreadable).
  flash.bytes[(ring.firstSector + 1) * S + 20]! ^= 0x08;
  const again = open(flash);
  assert.equal(again.syncPoint, 4);
  assert.deepEqual(
    readAll(again).map((r) => idOf(r.bytes)),
    range(5, 12),
  );
});

test("a young ring's first header torn by a cut: numbering is not thrown to the end of the 48-bit range", () => {
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }], retainUnsynced: true });
  const ring = store.ring(KEY)!;
  store.close();
  // The first program stopped inside the first-record field: its high bytes still read erased.
  const torn = [0x52, 0x47, 1, SECTOR_HEADER_BYTES, ring.ringId, 0, 0, 0, 1, 0, 0, 0, 1];
  flash.write(ring.firstSector * S, Uint8Array.from(torn));
  const again = openRingStore({ flash, retainUnsynced: true }).ring(KEY)!;
  assert.equal(again.nextSequence, 1, "nothing believable was written: numbering starts at 1");
  appendOne(again, 7);
  assert.deepEqual(
    readAll(again).map((r) => [r.seq, idOf(r.bytes)]),
    [[1, 7]],
  );
});
