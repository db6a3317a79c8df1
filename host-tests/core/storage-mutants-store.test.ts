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

/** Opens on a partition whose slot 0 holds `rings` in a CRC-valid record; returns the open report. */
function openOn(
  rings: { key: string; ringId: number; firstSector: number; sectors: number }[],
  geometry = { sectorSize: 512, sectorCount: 16 },
) {
  const flash = new NorImage({ size: 16 * 512, sectorSize: 512 });
  flash.write(0, encodeLayoutRecord({ generation: 1, ...geometry, nextRingId: 20, rings }));
  return openRingStore({ flash });
}

test("a CRC-valid layout describing impossible rings is refused, each with its reason", () => {
  const ring = (key: string, ringId: number, firstSector: number, sectors: number) => ({
    key,
    ringId,
    firstSector,
    sectors,
  });
  for (const [rings, why] of [
    [[ring("a", 1, 2, 1)], 'slot 0: ring "a" has impossible extent 2+1'],
    [[ring("a", 1, 1, 4)], 'slot 0: ring "a" has impossible extent 1+4'],
    [[ring("a", 1, 14, 4)], 'slot 0: ring "a" has impossible extent 14+4'],
    [[ring("a", 1, 2, 4), ring("a", 2, 6, 4)], 'slot 0: ring "a" appears twice'],
    [[ring("a", 1, 2, 4), ring("b", 2, 5, 4)], "slot 0: rings overlap at sector 5"],
    [[ring("a", 0, 2, 4)], 'slot 0: ring "a" has id 0 ≥ next id'],
  ] as const) {
    const store = openOn([...rings]);
    assert.equal(store.openReport.formatted, true, why);
    assert.equal(store.openReport.reason, why);
    assert.deepEqual(store.rings(), []);
  }
  const good = openOn([ring("a", 1, 2, 4), ring("b", 2, 6, 10)]);
  assert.equal(good.openReport.formatted, false, good.openReport.reason);
  // Another sector size with the same sector count is another partition.
  const other = openOn([ring("a", 1, 2, 4)], { sectorSize: 1024, sectorCount: 16 });
  assert.equal(
    other.openReport.reason,
    "slot 0: written for 16 sectors of 1024 bytes, this partition has 16 of 512",
  );
});

test("both layout slots unreadable: the reason names both; a blank partition opens with no ring at all", () => {
  const flash = new NorImage({ size: 16 * 512, sectorSize: 512 });
  flash.write(0, new Uint8Array([1, 2, 3]));
  flash.write(512, new Uint8Array([0x43, 0x53, 0x4c, 0x59, 9, 0]));
  const store = openRingStore({ flash });
  assert.equal(store.openReport.reason, "slot 0: no layout magic; slot 1: unknown layout version 9");
  const blank = openRingStore({ flash: new NorImage({ size: 16 * 512, sectorSize: 512 }) });
  assert.equal(blank.openReport.reason, "blank");
  assert.deepEqual(blank.rings(), []);
  assert.deepEqual(blank.geometry().rings, []);
});

test("rings whose keys would overflow the layout record's sector are left out, last first, logged", () => {
  const S = 256;
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const keys = ["a", "b", "c"].map((c) => c.repeat(100)); // 32 + 2 × 109 = 250 bytes; a third would not fit
  const store = openRingStore({ flash, log, layout: keys.map((key) => ({ key, sectors: 2 })) });
  assert.ok(store.ring(keys[0]!) && store.ring(keys[1]!));
  assert.equal(store.ring(keys[2]!), undefined);
  assert.ok(
    log.lines.includes(
      `error storage: ring "${keys[2]}" left out: the layout record would not fit in one sector`,
    ),
    log.lines.join("\n"),
  );
  assert.equal(flash.bytes[S], 0xff, "slot 1 untouched");
});

test("a ring that fits only past the partition's end is left out, with the free ring sectors in the log", () => {
  const S = 512;
  const flash = new NorImage({ size: 10 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({
    flash,
    log,
    layout: [
      { key: "a", sectors: 4 },
      { key: "b", sectors: 5 },
    ],
  });
  assert.equal(store.ring("b"), undefined);
  assert.ok(
    log.lines.includes(
      'error storage: ring "b" (5 sectors) does not fit in the free sectors of the partition (8 ring sectors; rings that keep their data never move); not stored',
    ),
    log.lines.join("\n"),
  );
});

test("a layout given as something else than a list keeps no ring, with one logged error", () => {
  const flash = new NorImage({ size: 16 * 512, sectorSize: 512 });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log });
  store.configure("rings" as unknown as []);
  assert.deepEqual(store.rings(), []);
  assert.deepEqual(log.lines, [
    "info storage: blank partition, formatting",
    "error storage: ring layout is not a list; keeping no rings",
  ]);
});

test("a layout program that reports a failure but reads back intact is used, with a warning", () => {
  const nor = new NorImage({ size: 16 * 512, sectorSize: 512 });
  let throwAfter = false;
  const port = {
    size: nor.size,
    sectorSize: nor.sectorSize,
    read: (o: number, t: Uint8Array) => nor.read(o, t),
    eraseSector: (i: number) => nor.eraseSector(i),
    write: (o: number, d: Uint8Array) => {
      nor.write(o, d);
      if (throwAfter) {
        throwAfter = false;
        throw new Error("late ack");
      }
    },
  };
  const log = new RecordingLogger();
  const store = openRingStore({ flash: port, log, layout: [{ key: "a", sectors: 3 }] });
  throwAfter = true;
  store.configure([
    { key: "a", sectors: 3 },
    { key: "b", sectors: 3 },
  ]);
  assert.ok(store.ring("b"));
  assert.ok(
    log.lines.includes("warn storage: layout program reported a failure (late ack) but reads back intact"),
    log.lines.join("\n"),
  );
  assert.equal(openRingStore({ flash: nor }).storedLayout().length, 2);
});

test("a new ring never takes the id of a ring in the stored layout that has written nothing yet", () => {
  const flash = new NorImage({ size: 16 * 512, sectorSize: 512 });
  openRingStore({ flash, layout: [{ key: "a", sectors: 3 }] }).close();
  const store = openRingStore({ flash });
  store.configure([
    { key: "a", sectors: 3 },
    { key: "c", sectors: 3 },
  ]);
  assert.notEqual(store.ring("c")!.ringId, store.ring("a")!.ringId);
});

test("a failed layout write with the new ring first still burns its id; the log quotes the driver", () => {
  const S = 512;
  const flash = new NorImage({ size: 32 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: [{ key: "a", sectors: 3 }] });
  const firstId = store.ring("a")!.ringId;
  flash.failSector(1);
  assert.throws(() =>
    store.configure([
      { key: "b", sectors: 3 },
      { key: "a", sectors: 3 },
    ]),
  );
  assert.ok(
    log.lines.includes(
      "error storage: writing the new ring layout failed (erase of sector 1 failed); the previous layout stays in use",
    ),
    log.lines.join("\n"),
  );
  flash.healSector(1);
  store.configure([
    { key: "a", sectors: 3 },
    { key: "c", sectors: 3 },
  ]);
  assert.equal(store.ring("c")!.ringId, firstId + 2);
});
