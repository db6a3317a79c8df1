// The ring store under faults that are not power cuts, and the layout rules
// that protect data across layout changes (issue 12): flash driver errors on
// program and erase, a failed sync-point write, a layout write that fails,
// repacking, ring ids after an unreadable newest layout record, erasing a
// sector that merely reads erased, and the live-run chain rule at open.

import { type FlashRing, RingWriteError } from "../../modules/storage/flash-ring";
import { FlashFaultError, NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "sensor/a/Readings";

function records(from: number, n: number, size = 30): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Uint8Array(size).fill((from + i) & 0xff);
    r[0] = (from + i) & 0xff;
    r[1] = ((from + i) >>> 8) & 0xff;
    out.push(r);
  }
  return out;
}

function batchOf(list: Uint8Array[]): TestBatch {
  const b = new TestBatch(8192, 256);
  for (const r of list) b.add(r);
  return b;
}

/** Every record after the sync point, with its sequence number (one read per record: exact across gaps). */
function readAll(ring: FlashRing): { seq: number; bytes: Uint8Array }[] {
  const out: { seq: number; bytes: Uint8Array }[] = [];
  let after: number | undefined;
  for (;;) {
    const one = ring.read(0, after);
    if (!one) return out;
    out.push({ seq: one.firstSeq, bytes: one.records[0]! });
    after = one.firstSeq;
  }
}

function assertHolds(ring: FlashRing, expected: Uint8Array[], label: string): void {
  const got = readAll(ring);
  assert.equal(got.length, expected.length, `${label}: record count`);
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(got[i]!.bytes, expected[i], `${label}: record ${i}`);
    if (i > 0) assert.ok(got[i]!.seq > got[i - 1]!.seq, `${label}: sequence numbers rise`);
  }
}

function setup(sectors = 6, total = 16) {
  const flash = new NorImage({ size: total * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, retainUnsynced: true, layout: [{ key: KEY, sectors }] });
  return { flash, log, store, ring: store.ring(KEY)! };
}

function reopen(flash: NorImage, layout = [{ key: KEY, sectors: 6 }]) {
  return openRingStore({ flash, retainUnsynced: true, layout });
}

test("a program that fails half-written is never programmed over; the batch goes to a fresh sector", () => {
  const { flash, ring } = setup();
  const a = records(1, 5);
  ring.append(batchOf(a));
  // The next program clears only some of its bits and reports an error.
  flash.armFault({ atOperation: flash.operations, tear: "bits", seed: 7 });
  const b = records(6, 4);
  ring.append(batchOf(b)); // read back, found damaged, written again: no throw
  const c = records(10, 3);
  ring.append(batchOf(c));
  assertHolds(ring, [...a, ...b, ...c], "same boot");
  const counters = ring.counters();
  assert.equal(counters.flashErrors, 1);
  assert.equal(counters.appended, 12);
  const again = reopen(flash).ring(KEY)!;
  assertHolds(again, [...a, ...b, ...c], "after reopen");
  // Nothing handed out twice: the next number is past everything stored.
  assert.ok(again.nextSequence > readAll(again).at(-1)!.seq);
});

test("a failed program is read back: intact counts as done, damaged is written again, never both", () => {
  let intact = 0;
  let rewritten = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const { flash, ring, log } = setup();
    ring.append(batchOf(records(1, 5)));
    // A one-byte record: a 13-byte program, so a prefix tear often leaves it whole.
    flash.armFault({ atOperation: flash.operations, tear: "prefix", seed });
    ring.append(batchOf([new Uint8Array([6])]));
    ring.append(batchOf([new Uint8Array([7])]));
    const got = readAll(ring);
    assert.deepEqual(
      got.map((g) => g.bytes[0]),
      [1, 2, 3, 4, 5, 6, 7],
      `seed ${seed}`,
    );
    assert.equal(ring.counters().appended, 7, `seed ${seed}`);
    if (log.has(/reads back intact/)) intact++;
    else rewritten++;
    const again = reopen(flash).ring(KEY)!;
    assert.deepEqual(
      readAll(again).map((g) => g.bytes[0]),
      [1, 2, 3, 4, 5, 6, 7],
      `seed ${seed} after reopen`,
    );
  }
  assert.ok(
    intact > 0 && rewritten > 0,
    `both outcomes exercised (${intact} intact, ${rewritten} rewritten)`,
  );
});

test("when the retry fails too, append throws; earlier appends and numbering survive", () => {
  const { flash, ring, store } = setup();
  const a = records(1, 5);
  ring.append(batchOf(a));
  // The program fails damaged; so does its retry (after the erase of the next sector).
  const op = flash.operations;
  flash.armFault({ atOperation: op, tear: "bits", seed: 1 });
  flash.armFault({ atOperation: op + 2, tear: "bits", seed: 2 });
  let thrown: unknown;
  try {
    ring.append(batchOf(records(6, 4)));
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof RingWriteError, String(thrown));
  assert.ok(/append failed after 0 record/.test(thrown.message), thrown.message);
  assert.equal(thrown.stored, 0);
  const c = records(20, 3);
  ring.append(batchOf(c));
  assertHolds(ring, [...a, ...c], "same boot");
  assert.ok(ring.counters().flashErrors >= 2);
  store.close();
  assertHolds(reopen(flash).ring(KEY)!, [...a, ...c], "after reopen");
});

test("a failed header program in a new sector leaves no hole in the run: older sectors stay readable", () => {
  const { flash, ring } = setup(4);
  // Fill the first sector so the next batch opens sector 1.
  const a = records(1, 14);
  ring.append(batchOf(a));
  const b = records(15, 4);
  // Sector 1's erase works, its first program (header + frame) fails torn, so does the retry's.
  const op = flash.operations;
  flash.armFault({ atOperation: op + 1, tear: "random", seed: 4 });
  flash.armFault({ atOperation: op + 3, tear: "bits", seed: 5 });
  assert.throws(() => ring.append(batchOf(b)), "append failed");
  const c = records(40, 4);
  ring.append(batchOf(c)); // erases sector 1 again, then writes
  const d = records(60, 14);
  ring.append(batchOf(d));
  assertHolds(ring, [...a, ...c, ...d], "same boot");
  assertHolds(reopen(flash, [{ key: KEY, sectors: 4 }]).ring(KEY)!, [...a, ...c, ...d], "after reopen");
});

test("a failed sync-point program is retried in a fresh sector; the next batch never lands on it", () => {
  const { flash, ring } = setup();
  const a = records(1, 6);
  ring.append(batchOf(a));
  const chunk = ring.read(3 * 30)!;
  flash.armFault({ atOperation: flash.operations, tear: "bits", seed: 3 });
  ring.commit(chunk.lastSeq);
  assert.equal(ring.syncPoint, chunk.lastSeq);
  const b = records(7, 4);
  ring.append(batchOf(b));
  assertHolds(ring, [...a.slice(3), ...b], "same boot");
  const again = reopen(flash).ring(KEY)!;
  assert.equal(again.syncPoint, chunk.lastSeq);
  assertHolds(again, [...a.slice(3), ...b], "after reopen");
});

test("a sync point that cannot be written at all throws and stays at its old value", () => {
  const { flash, ring } = setup();
  ring.append(batchOf(records(1, 6)));
  const chunk = ring.read(60)!;
  const op = flash.operations;
  flash.armFault({ atOperation: op, tear: "bits", seed: 1 });
  flash.armFault({ atOperation: op + 2, tear: "bits", seed: 2 });
  assert.throws(() => ring.commit(chunk.lastSeq), "sync point not persisted");
  assert.equal(ring.syncPoint, 0);
  ring.commit(chunk.lastSeq);
  assert.equal(reopen(flash).ring(KEY)!.syncPoint, chunk.lastSeq);
});

test("a failed erase of the oldest sector drops it (counted) and is retried before the sector is used", () => {
  const { flash, ring } = setup(3);
  const all: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const r = records(1 + 14 * i, 14);
    ring.append(batchOf(r));
    all.push(...r);
  }
  // The ring is full: the next sector opened is the oldest one, which must be erased.
  const oldest = ring.firstSector;
  flash.failSector(oldest, "tail");
  assert.throws(() => ring.append(batchOf(records(50, 14))), "erase of sector");
  assert.equal(ring.counters().dropped, 14, "the oldest sector's records are gone, and counted");
  assertHolds(ring, all.slice(14), "what is left");
  assert.equal(ring.counters().appended + 0, 42);
  const c = ring.counters();
  assert.equal(c.appended, c.committed + c.dropped + c.pending, "counts reconcile");
  flash.healSector(oldest);
  const before = flash.sectorErases[oldest]!;
  const next = records(70, 14);
  ring.append(batchOf(next));
  assert.equal(flash.sectorErases[oldest], before + 1, "erased before use");
  assertHolds(ring, [...all.slice(14), ...next], "after the retry");
  assert.ok(ring.counters().flashErrors >= 1);
  assertHolds(reopen(flash, [{ key: KEY, sectors: 3 }]).ring(KEY)!, [...all.slice(14), ...next], "reopen");
});

test("a sector that reads all 0xFF is erased before its first use anyway", () => {
  const { flash, ring } = setup();
  assert.equal(flash.sectorErases[ring.firstSector], 0);
  ring.append(batchOf(records(1, 2)));
  assert.equal(flash.sectorErases[ring.firstSector], 1, "weakly erased cells are erased again");
});

test("a layout write that fails keeps every ring of the old layout, records and all", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const layout = [
    { key: "a", sectors: 3 },
    { key: "b", sectors: 3 },
  ];
  const store = openRingStore({ flash, retainUnsynced: true, layout });
  const a = records(1, 8);
  store.ring("a")!.append(batchOf(a));
  const ringA = store.ring("a")!;
  flash.armFault({ atOperation: flash.operations, tear: "random", seed: 5 }); // the layout slot's erase
  assert.throws(
    () =>
      store.configure([
        { key: "b", sectors: 3 },
        { key: "c", sectors: 2 },
      ]),
    "erase of sector",
  );
  assert.ok(store.ring("a") === ringA, "the removed ring is still there");
  assert.equal(store.ring("c"), undefined);
  assertHolds(ringA, a, "after the failed configure");
  const more = records(30, 2);
  ringA.append(batchOf(more));
  // A later configure keeps the ring as it is, records included (never a fresh ring under its old id).
  store.configure(layout);
  assert.ok(store.ring("a") === ringA, "same ring after the next configure");
  assertHolds(store.ring("a")!, [...a, ...more], "after the next configure");
  store.close();
  assertHolds(openRingStore({ flash, retainUnsynced: true, layout }).ring("a")!, [...a, ...more], "reopen");
});

test("removing one ring and adding another never moves a ring that did not change", () => {
  const flash = new NorImage({ size: 12 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({
    flash,
    log,
    retainUnsynced: true,
    layout: [
      { key: "a", sectors: 3 },
      { key: "b", sectors: 3 },
      { key: "c", sectors: 3 },
    ],
  });
  const c = store.ring("c")!;
  const pending = records(1, 10);
  c.append(batchOf(pending));
  // b's 3 sectors plus the 1 at the end are free, but not contiguous: d (4) fits only by moving c.
  store.configure([
    { key: "a", sectors: 3 },
    { key: "c", sectors: 3 },
    { key: "d", sectors: 4 },
  ]);
  assert.ok(store.ring("c") === c, "c keeps its Ring object");
  assert.equal(c.firstSector, 8);
  assertHolds(c, pending, "c's unsynced records");
  assert.equal(c.counters().discarded, 0);
  assert.equal(store.ring("d"), undefined);
  assert.ok(log.has(/"d" \(4 sectors\) does not fit/), "d left out with a logged error");
});

test("a new ring never gets an id found on flash, even after the newest layout record is lost", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  let store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: "a", sectors: 2 }] });
  store.configure([
    { key: "a", sectors: 2 },
    { key: "b", sectors: 2 },
  ]);
  store.ring("b")!.append(batchOf(records(1, 6)));
  store.close();
  // The newest record (generation 2, slot 1) becomes unreadable: open falls back to generation 1.
  flash.bytes[1 * S + 30] ^= 0x01;
  store = openRingStore({ flash, retainUnsynced: true });
  assert.equal(store.openReport.layoutGeneration, 1);
  assert.equal(store.ring("b"), undefined);
  store.configure([
    { key: "a", sectors: 2 },
    { key: "c", sectors: 2 },
  ]);
  assert.equal(store.ring("c")!.firstSector, 4, "c lands on b's old sectors");
  store.close();
  store = openRingStore({ flash, retainUnsynced: true });
  assert.equal(store.ring("c")!.read(1 << 20), null, "c must not return b's records");
  assert.equal(store.ring("c")!.counters().pending, 0);
});

test("open keeps a sector whose first record number equals the next one's in the run (empty sealed sector)", () => {
  const { flash, ring, store } = setup(6);
  const a = records(1, 14); // sector 0 full
  ring.append(batchOf(a));
  const b = records(15, 3); // opens sector 1
  ring.append(batchOf(b));
  store.close();
  // Damage b's frame: sector 1 keeps an intact header but no intact frame.
  const at = (ring.firstSector + 1) * S + 40 + 10; // past the header (28) and units mark (12)
  flash.bytes[at] &= 0x0f;
  let again = reopen(flash);
  const r = again.ring(KEY)!;
  assertHolds(r, a, "after the damage");
  // The next batch reuses b's numbers in sector 2, whose first record number equals sector 1's.
  const c = records(40, 3);
  r.append(batchOf(c));
  again.close();
  again = reopen(flash);
  assertHolds(again.ring(KEY)!, [...a, ...c], "the whole run, oldest sector included");
});

test("the emulation's driver faults tear, throw and leave the chip usable", () => {
  const flash = new NorImage({ size: 4 * S, sectorSize: S });
  flash.armFault({ atOperation: 0, tear: "none" });
  assert.throws(() => flash.write(0, new Uint8Array([0])), "program of 1 bytes");
  assert.equal(flash.bytes[0], 0xff);
  assert.equal(flash.poweredOff, false);
  flash.write(0, new Uint8Array([0x12]));
  assert.equal(flash.bytes[0], 0x12);
  flash.failSector(1, "tail");
  flash.bytes.fill(0, S, 2 * S);
  let caught: unknown;
  try {
    flash.eraseSector(1);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof FlashFaultError);
  assert.equal(flash.bytes[S], 0, "a tail-torn erase keeps the sector's start");
  flash.healSector(1);
  flash.eraseSector(1);
  assert.equal(flash.bytes[S], 0xff);
});
