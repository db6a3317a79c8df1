// The ring store's layout at its edges: a layout record that fills its
// sector exactly, a ring that ends on the partition's last sector, a failed
// layout write that would have added a single ring, a stored ring id equal to
// the next id, a ring of exactly two sectors, and a clean reopen that has
// nothing to warn about.

import { encodeLayoutRecord, LAYOUT_SLOTS, layoutRecordBytes } from "../../modules/storage/layout-record";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

function one(id: number): TestBatch {
  const b = new TestBatch(64, 1);
  b.add(Uint8Array.from([id, id, id]));
  return b;
}

test("a layout record that fills its sector exactly is written, kept and read back whole", () => {
  const S = 256;
  const key = "k".repeat(215); // 28 + 4 + 9 + 215 = 256 bytes
  const flash = new NorImage({ size: 8 * S, sectorSize: S });
  assert.equal(layoutRecordBytes([{ key, ringId: 1, firstSector: 2, sectors: 2 }]), S);
  let store = openRingStore({ flash, retainUnsynced: true, layout: [{ key, sectors: 2 }] });
  assert.ok(store.ring(key), "the ring was not left out");
  store.ring(key)!.append(one(7));
  store.close();
  const log = new RecordingLogger();
  store = openRingStore({ flash, log, retainUnsynced: true });
  assert.equal(store.openReport.formatted, false, store.openReport.reason);
  assert.deepEqual(Array.from(store.ring(key)!.read(100)!.records[0]!), [7, 7, 7]);
});

test("a ring that ends on the partition's last sector is kept at open", () => {
  const S = 512;
  const flash = new NorImage({ size: 10 * S, sectorSize: S });
  let store = openRingStore({
    flash,
    retainUnsynced: true,
    layout: [
      { key: "a", sectors: 4 },
      { key: "b", sectors: 4 },
    ],
  });
  assert.equal(store.ring("b")!.firstSector + store.ring("b")!.sectorCount, 10);
  store.ring("b")!.append(one(9));
  store.close();
  store = openRingStore({ flash, retainUnsynced: true });
  assert.equal(store.openReport.formatted, false, store.openReport.reason);
  assert.deepEqual(Array.from(store.ring("b")!.read(100)!.records[0]!), [9, 9, 9]);
});

test("a failed layout write that would have added one ring burns that ring's id", () => {
  const S = 512;
  const flash = new NorImage({ size: 32 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: "a", sectors: 3 }] });
  const firstId = store.ring("a")!.ringId;
  for (let s = 0; s < LAYOUT_SLOTS; s++) flash.failSector(s);
  assert.throws(() =>
    store.configure([
      { key: "a", sectors: 3 },
      { key: "b", sectors: 3 },
    ]),
  );
  for (let s = 0; s < LAYOUT_SLOTS; s++) flash.healSector(s);
  store.configure([
    { key: "a", sectors: 3 },
    { key: "c", sectors: 3 },
  ]);
  assert.equal(store.ring("c")!.ringId, firstId + 2, "b's id is never handed out");
});

test("a stored layout naming a ring id equal to its next id is not trusted", () => {
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const bytes = encodeLayoutRecord({
    generation: 1,
    sectorSize: S,
    sectorCount: 16,
    nextRingId: 3,
    rings: [{ key: "a", ringId: 3, firstSector: 2, sectors: 4 }],
  });
  flash.write(0, bytes);
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log });
  assert.equal(store.openReport.formatted, true);
  assert.ok(store.openReport.reason.includes('ring "a" has id 3 ≥ next id'), store.openReport.reason);
  assert.equal(store.ring("a"), undefined);
});

test("a ring of exactly two sectors is taken as asked, without a warning", () => {
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: [{ key: "a", sectors: 2 }] });
  assert.equal(store.ring("a")!.sectorCount, 2);
  assert.deepEqual(
    log.lines.filter((l) => l.startsWith("warn")),
    [],
  );
});

test("reopening a healthy store warns of nothing", () => {
  const S = 512;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  openRingStore({ flash, layout: [{ key: "a", sectors: 3 }] }).close();
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log });
  assert.equal(store.openReport.formatted, false);
  assert.deepEqual(
    log.lines.filter((l) => l.startsWith("warn") || l.startsWith("error")),
    [],
  );
});
