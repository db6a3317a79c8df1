// Ring.version: capture's erase-ahead skips asking a ring for its free space while the version stays
// the same, so every change of writableWithoutErase() must move it, and reads must not.

import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { TestBatch } from "../support/flash-scenario";

const KEY = "rdk:component:sensor/v/Readings";

function ring(flash: NorImage): FlashRing {
  return openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
}

function batchOf(size: number): TestBatch {
  const b = new TestBatch(size, 1);
  b.add(new Uint8Array(size).fill(7));
  return b;
}

test("ring version: moves with every append, sync point, erase and close; reads leave it", () => {
  const flash = new NorImage({ size: 8 * 512, sectorSize: 512 });
  const r = ring(flash);
  const seen: number[] = [];
  const step = (what: string, change: () => void, moves: boolean) => {
    const before = r.version;
    const free = r.writableWithoutErase();
    change();
    if (moves) assert.ok(r.version !== before, `${what}: the version moved`);
    else assert.equal(r.version, before, `${what}: the version stayed`);
    // The point of the version: while it stays, the free space it stands for stays too.
    if (r.version === before) assert.equal(r.writableWithoutErase(), free, `${what}: free space`);
    seen.push(r.version);
  };
  step("append", () => r.append(batchOf(100)), true);
  step("read", () => r.read(1000), false);
  step("census", () => r.counters(), false);
  step("commit", () => r.commit(1), true);
  step("commit of nothing new", () => r.commit(1), false);
  for (let i = 0; i < 12; i++) step(`append ${i}`, () => r.append(batchOf(200)), true);
  // The ring wrapped: a sector behind the head is dirty; erasing it ahead frees space.
  const free = r.writableWithoutErase();
  step("erase ahead", () => assert.ok(r.eraseAhead(free + 400) >= 1), true);
  step("erase ahead with room", () => assert.equal(r.eraseAhead(1), 0), false);
  step("close", () => r.close(), true);
  assert.equal(r.writableWithoutErase(), 0);
});

test("ring version: a failed program moves it too (the head is sealed: no free space left in it)", () => {
  const flash = new NorImage({ size: 8 * 512, sectorSize: 512 });
  const r = ring(flash);
  r.append(batchOf(50));
  const before = r.version;
  const free = r.writableWithoutErase();
  for (let i = 0; i < 8; i++) flash.failSector(i);
  assert.throws(() => r.append(batchOf(50)));
  assert.ok(r.version !== before);
  assert.ok(r.writableWithoutErase() < free, "the sealed head's space is gone");
});
