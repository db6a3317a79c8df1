// The ring store's edges: partition geometry it accepts, layouts it is given (bad entries, the
// same layout again, a failing layout write), what it logs, and a closed store: cases the
// mutation run (npm run mutation storage) found unguarded.

import type { FlashPort } from "../../modules/ports";
import { LAYOUT_SLOTS, MAX_KEY_BYTES } from "../../modules/storage/layout-record";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;

/** A blank flash of any geometry that stores nothing (reads 0xFF): enough for open to judge it. */
function blankPort(size: number, sectorSize: number): FlashPort {
  return {
    size,
    sectorSize,
    read: (_offset, target) => target.fill(0xff),
    write: () => {},
    eraseSector: () => {},
  } as FlashPort;
}

test("partition geometry: sector sizes 256..65536 (whole), 4..65535 sectors; anything else is refused", () => {
  for (const sectorSize of [256, 512, 4096, 65536])
    openRingStore({ flash: blankPort(8 * sectorSize, sectorSize) });
  for (const sectorSize of [255, 65537, 1000.5, Number.NaN]) {
    assert.throws(
      () => openRingStore({ flash: blankPort(8 * 4096, sectorSize) }),
      `storage: sector size ${sectorSize} outside 256..65536`,
    );
  }
  const fewest = LAYOUT_SLOTS + 2;
  openRingStore({ flash: blankPort(fewest * S, S) });
  openRingStore({ flash: blankPort(0xffff * 256, 256) });
  for (const sectors of [fewest - 1, 0x10000]) {
    assert.throws(
      () => openRingStore({ flash: blankPort(sectors * 256, 256) }),
      `storage: a partition of ${sectors} sectors cannot hold a layout and a ring`,
    );
  }
});

test("layout entries: bad keys are skipped, a repeated key keeps the first, bad sizes become 2, each with a logged reason", () => {
  const flash = new NorImage({ size: 64 * S, sectorSize: S });
  const log = new RecordingLogger();
  const longest = "k".repeat(MAX_KEY_BYTES);
  const layout = [
    null,
    { key: "" },
    { key: 7, sectors: 3 },
    { key: "é".repeat(MAX_KEY_BYTES / 2 + 1), sectors: 3 }, // 2 bytes a character: one too many
    { key: longest, sectors: 3 },
    { key: "a", sectors: 4 },
    { key: "a", sectors: 9 },
    { key: "b", sectors: 1 },
    { key: "c", sectors: Number.NaN },
    { key: "d", sectors: "5" },
    { key: "e", sectors: 2.2 },
  ] as unknown as RingLayoutEntry[];
  const store = openRingStore({ flash, log, layout });
  const sizes = Object.fromEntries(store.rings().map((r) => [r.key, r.sectorCount]));
  assert.deepEqual(sizes, { [longest]: 3, a: 4, b: 2, c: 2, d: 2, e: 3 });
  const errors = log.lines.filter((l) => l.startsWith("error"));
  assert.equal(
    errors.filter((l) => l.includes(`must be a string of 1..${MAX_KEY_BYTES} bytes; skipped`)).length,
    4,
  );
  assert.ok(log.has(/ring "a" appears twice in the layout; the second is skipped/));
  assert.ok(log.has(/warn storage: ring "b" asks for 1 sectors; using 2/));
  assert.ok(log.has(/warn storage: ring "c" asks for NaN sectors; using 2/));
  assert.ok(log.has(/warn storage: ring "d" asks for 5 sectors; using 2/));
  // Not a list at all: no rings, and a logged reason.
  const other = new RecordingLogger();
  const empty = openRingStore({ flash: new NorImage({ size: 16 * S, sectorSize: S }), log: other });
  empty.configure("rings" as unknown as RingLayoutEntry[]);
  assert.deepEqual(empty.rings(), []);
  assert.ok(other.has(/error storage: ring layout is not a list; keeping no rings/));
});

test("the same layout again writes nothing; a change writes one layout record and logs what went", () => {
  const flash = new NorImage({ size: 32 * S, sectorSize: S });
  const log = new RecordingLogger();
  const layout = [
    { key: "a", sectors: 3 },
    { key: "b", sectors: 3 },
  ];
  const store = openRingStore({ flash, log, layout });
  const a = store.ring("a")!;
  const batch = new TestBatch(S, 4);
  batch.add(new Uint8Array(20));
  a.append(batch);
  store.ring("b")!.append(batch);
  store.ring("b")!.commit(1);
  const ops = flash.operations;
  store.configure(layout.map((e) => ({ ...e })));
  assert.equal(flash.operations, ops, "an unchanged layout writes nothing");
  assert.equal(store.ring("a"), a, "and keeps the ring objects");
  // Resize both: a had an unsynced record (warned), b had none (info).
  store.configure([
    { key: "a", sectors: 4 },
    { key: "b", sectors: 4 },
  ]);
  assert.ok(
    log.has(/warn storage: ring "a" changed or removed: 1 unsynced records discarded/),
    log.lines.join("\n"),
  );
  assert.ok(log.has(/info storage: ring "b" changed or removed$/), log.lines.join("\n"));
  assert.notEqual(store.ring("a"), a);
  assert.equal(store.ring("a")!.counters().discarded, 1);
  assert.equal(store.ring("b")!.counters().discarded, 0);
  store.close();
  const again = openRingStore({ flash });
  assert.deepEqual(
    again.rings().map((r) => [r.key, r.sectorCount]),
    [
      ["a", 4],
      ["b", 4],
    ],
  );
  // Ring ids: new rings never reuse one used before.
  const ids = again.rings().map((r) => r.ringId);
  assert.ok(Math.min(...ids) >= 3, `ids ${ids}`);
});

test("a layout write that fails is logged with its cause; the ids it would have used are never handed out", () => {
  const flash = new NorImage({ size: 32 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: [{ key: "a", sectors: 3 }] });
  const firstId = store.ring("a")!.ringId;
  for (let s = 0; s < LAYOUT_SLOTS; s++) flash.failSector(s);
  assert.throws(() =>
    store.configure([
      { key: "a", sectors: 3 },
      { key: "b", sectors: 3 },
      { key: "c", sectors: 3 },
    ]),
  );
  assert.ok(
    log.has(/error storage: writing the new ring layout failed \(.+\); the previous layout stays in use/),
    log.lines.join("\n"),
  );
  assert.ok(!log.has(/failed \(undefined\)/));
  for (let s = 0; s < LAYOUT_SLOTS; s++) flash.healSector(s);
  store.configure([
    { key: "a", sectors: 3 },
    { key: "d", sectors: 3 },
  ]);
  // b and c would have had the next two ids: d comes after them.
  assert.equal(store.ring("d")!.ringId, firstId + 3);
});

test("a closed store has no rings, refuses a new layout, and closes once", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: "a", sectors: 3 }] });
  const ring = store.ring("a")!;
  store.close();
  store.close();
  assert.deepEqual(store.rings(), []);
  assert.equal(store.ring("a"), undefined);
  assert.throws(() => store.configure([{ key: "a", sectors: 3 }]), "storage: the ring store is closed");
  const batch = new TestBatch(S, 4);
  batch.add(new Uint8Array(4));
  assert.throws(() => ring.append(batch));
});

test("the NOR emulation's own edges: geometry checks, default size, a write across a failing sector, its error's name", () => {
  for (const sectorSize of [0, -4096, 100.5, Number.NaN]) {
    assert.throws(
      () => new NorImage({ sectorSize }),
      `NOR sector size must be a positive integer, got ${sectorSize}`,
    );
  }
  assert.throws(
    () => new NorImage({ size: 1000, sectorSize: 512 }),
    "NOR size 1000 is not a whole number of 512-byte sectors",
  );
  assert.equal(new NorImage().size, 64 * 4096);
  assert.equal(new NorImage({ sectorSize: 256 }).size, 64 * 256);
  // A program that spans two sectors fails when the second one is failing.
  const flash = new NorImage({ size: 4 * S, sectorSize: S });
  flash.failSector(2);
  let error: unknown;
  try {
    flash.write(2 * S - 4, new Uint8Array(8));
  } catch (e) {
    error = e;
  }
  assert.equal((error as Error)?.name, "FlashFaultError");
  flash.write(S - 4, new Uint8Array(8));
});
