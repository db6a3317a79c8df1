// Flash driver errors the NOR emulation's own faults do not produce: a
// program that lands but reports failure, a read-back that fails too, a
// driver that throws something that is not an Error; and the accounting of
// records erased for a sync point that never got written, sector by sector.

import type { FlashPort } from "../../modules/ports";
import { type FlashRing, RingWriteError } from "../../modules/storage/flash-ring";
import { FlashFaultError, NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { RecordingLogger, TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "sensor/a/Readings";

function record(id: number, size: number): Uint8Array {
  const r = new Uint8Array(size).fill((id * 13) & 0xff);
  if (size > 0) r[0] = id & 0xff;
  return r;
}

function append(ring: FlashRing, ids: number[], size: number): void {
  const b = new TestBatch(Math.max(1, ids.length * size), Math.max(1, ids.length));
  for (const id of ids) b.add(record(id, size));
  ring.append(b);
}

function ids(ring: FlashRing): number[] {
  const out: number[] = [];
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) return out;
    for (const r of chunk.records) out.push(r[0]!);
    after = chunk.lastSeq;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A port over a NorImage whose next write or read can be made to misbehave once. */
class TrickyPort implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  /** The next write lands, then throws this. */
  landThenThrow: unknown = undefined;
  /** The next write fails without landing, and the read after it throws too. */
  failWriteAndReadBack = false;
  private failNextRead = false;
  constructor(readonly nor: NorImage) {
    this.size = nor.size;
    this.sectorSize = nor.sectorSize;
  }
  read(offset: number, target: Uint8Array): void {
    if (this.failNextRead) {
      this.failNextRead = false;
      throw new Error("read-back failed too");
    }
    this.nor.read(offset, target);
  }
  write(offset: number, data: Uint8Array): void {
    if (this.failWriteAndReadBack) {
      this.failWriteAndReadBack = false;
      this.failNextRead = true;
      throw new Error("program failed, chip gone");
    }
    this.nor.write(offset, data);
    if (this.landThenThrow !== undefined) {
      const error = this.landThenThrow;
      this.landThenThrow = undefined;
      throw error;
    }
  }
  eraseSector(index: number): void {
    this.nor.eraseSector(index);
  }
}

function tricky() {
  const nor = new NorImage({ size: 16 * S, sectorSize: S });
  const port = new TrickyPort(nor);
  const log = new RecordingLogger();
  const store = openRingStore({ flash: port, log, retainUnsynced: true, layout: [{ key: KEY, sectors: 4 }] });
  return { nor, port, log, store, ring: store.ring(KEY)! };
}

test("a program that reports a failure but reads back intact counts as done: no retry, no new sector", () => {
  const { nor, port, log, ring } = tricky();
  append(ring, [1], 30);
  const erases = nor.erases;
  port.landThenThrow = new Error("spurious timeout");
  append(ring, [2, 3], 30);
  assert.deepEqual(ids(ring), [1, 2, 3]);
  assert.equal(nor.erases, erases, "no sector opened for a retry");
  assert.equal(ring.counters().flashErrors, 1);
  assert.equal(
    ring.counters().bytesUsed,
    40 + 12 + 31 + 12 + 2 * 31,
    "one sector, both frames, nothing sealed",
  );
  assert.ok(
    log.lines.includes(
      `warn storage: ring "${KEY}": append program reported a failure (spurious timeout) but reads back intact`,
    ),
    log.lines.join("\n"),
  );
  // A driver may throw something that is not an Error: it is logged as it is.
  port.landThenThrow = "EIO";
  append(ring, [4], 30);
  assert.ok(
    log.lines.some((l) => l.endsWith("append program reported a failure (EIO) but reads back intact")),
  );
  assert.deepEqual(ids(ring), [1, 2, 3, 4]);
});

test("a failed program whose read-back fails too rethrows the program's error and seals the sector", () => {
  const { port, log, ring, store, nor } = tricky();
  append(ring, [1, 2], 30);
  port.failWriteAndReadBack = true;
  let error: unknown;
  try {
    append(ring, [3], 30);
  } catch (e) {
    error = e;
  }
  assert.equal((error as Error).message, "program failed, chip gone");
  assert.ok(
    log.lines.some((l) =>
      l.startsWith(
        `error storage: ring "${KEY}": append program failed (program failed, chip gone); its sector is sealed`,
      ),
    ),
    log.lines.join("\n"),
  );
  // The sector is sealed, not forgotten: its records stay, the next record opens sector 1.
  append(ring, [4], 30);
  assert.deepEqual(ids(ring), [1, 2, 4]);
  assert.equal(ring.counters().bytesUsed, S + 40 + 12 + 31);
  store.close();
  const again = openRingStore({ flash: nor, retainUnsynced: true }).ring(KEY)!;
  assert.deepEqual(ids(again), [1, 2, 4]);
});

test("a new sector whose first program and its read-back fail is opened again next time, not left in the run", () => {
  const { port, ring, store, nor } = tricky();
  port.failWriteAndReadBack = true;
  let error: unknown;
  try {
    append(ring, [1], 30);
  } catch (e) {
    error = e;
  }
  assert.equal((error as Error).message, "program failed, chip gone");
  assert.deepEqual([ring.counters().bytesUsed, ring.counters().appended], [0, 0]);
  append(ring, [2], 30);
  assert.deepEqual(ids(ring), [2]);
  assert.equal(ring.counters().bytesUsed, 40 + 12 + 31, "sector 0, opened again");
  store.close();
  assert.deepEqual(ids(openRingStore({ flash: nor, retainUnsynced: true }).ring(KEY)!), [2]);
});

test("a first program torn at its start (header lost, frames whole) is written again: the records survive a reboot", () => {
  let frameWhole = 0;
  for (let seed = 1; seed <= 12; seed++) {
    let torn: Uint8Array | undefined;
    let watch = -1;
    const nor: NorImage = new NorImage({
      size: 16 * S,
      sectorSize: S,
      // The first program of sector 0 is 54 bytes: what the tear left, before the retry erases it.
      onChange: (offset, length) => {
        if (offset === watch && length === 54 && !torn) torn = nor.bytes.slice(offset, offset + 54);
      },
    });
    const store = openRingStore({ flash: nor, retainUnsynced: true, layout: [{ key: KEY, sectors: 4 }] });
    const ring = store.ring(KEY)!;
    watch = ring.firstSector * S;
    // Erase (operation k), then header + units mark + one 14-byte frame (k + 1): only its last n bytes land.
    nor.armFault({ atOperation: nor.operations + 1, tear: "tail", seed });
    append(ring, [7], 1);
    if (torn && torn[0] === 0xff && torn[40] !== 0xff) frameWhole++;
    assert.deepEqual(ids(ring), [7], `seed ${seed}`);
    store.close();
    assert.deepEqual(
      ids(openRingStore({ flash: nor, retainUnsynced: true }).ring(KEY)!),
      [7],
      `seed ${seed}, reopened`,
    );
  }
  assert.ok(frameWhole > 0, "some seed left the frame whole and the header torn");
});

test("an erase that fails is logged with the partition's sector number and the driver's message", () => {
  const nor = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const ring = openRingStore({ flash: nor, log, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  for (let id = 1; id <= 6; id++) append(ring, [id], 60); // sector 0 full
  const second = ring.firstSector + 1;
  nor.failSector(second);
  let error: unknown;
  try {
    append(ring, [7], 60);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof FlashFaultError);
  assert.ok(
    log.lines.includes(
      `error storage: ring "${KEY}": erase of sector ${second} failed (erase of sector ${second} failed)`,
    ),
    log.lines.join("\n"),
  );
});

test("a damaged frame is logged with the partition's sector number", () => {
  const nor = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash: nor, log, retainUnsynced: true, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  for (let id = 1; id <= 8; id++) append(ring, [id], 60); // sector 0: 6 records, sector 1: 2
  store.close();
  nor.bytes[(ring.firstSector + 1) * S + 40 + 20] ^= 0x01;
  const again = openRingStore({ flash: nor, log, retainUnsynced: true }).ring(KEY)!;
  assert.deepEqual(ids(again), range(1, 6));
  assert.ok(
    log.lines.some((l) =>
      l.includes(
        `ring "${KEY}" sector ${ring.firstSector + 1} has a damaged frame at byte 40; the rest of that sector is skipped`,
      ),
    ),
    log.lines.join("\n"),
  );
});

test("a removed ring's object refuses appends, reads and commits", () => {
  const nor = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash: nor, layout: [{ key: KEY, sectors: 4 }] });
  const ring = store.ring(KEY)!;
  append(ring, [1], 30);
  store.configure([{ key: "other", sectors: 4 }]);
  for (const call of [
    () => append(ring, [2], 30),
    () => ring.read(100),
    () => ring.commit(1),
    () => ring.eraseAhead(1),
  ]) {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    assert.equal(
      (error as Error)?.message,
      `storage: ring "${KEY}" is closed or was removed from the layout`,
    );
  }
  assert.equal(ring.writableWithoutErase(), 0);
});

/** 3 sectors of 7 records (6 × 70 bytes + 1 × 10: 501 bytes, 11 left); `commitAt` commits after sector `at`'s big batch. */
function fullRing(commit?: { at: number; seq: number }) {
  const nor = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash: nor, log, retainUnsynced: true, layout: [{ key: KEY, sectors: 3 }] });
  const ring = store.ring(KEY)!;
  let id = 1;
  for (let sector = 0; sector < 3; sector++) {
    append(ring, range(id, id + 5), 70); // 40 + 12 + 6 × 71 = 478
    if (commit?.at === sector) {
      ring.commit(commit.seq); // + 12 = 490
      append(ring, [id + 6], 9); // + 12 + 10 = 512: full
    } else append(ring, [id + 6], 10); // + 12 + 11 = 501: no room for a sync frame
    id += 7;
  }
  assert.equal(ring.writableWithoutErase(), 0);
  return { nor, log, ring };
}

function failingCommit(nor: NorImage, ring: FlashRing, seq: number): unknown {
  nor.failSector(ring.firstSector);
  try {
    ring.commit(seq);
  } catch (e) {
    return e;
  } finally {
    nor.healSector(ring.firstSector);
  }
  return undefined;
}

test("records erased for a sync point that fails count as dropped only if no earlier sync point covered them", () => {
  {
    // Sync point 3, then a commit of 7 erases sector 0 (1..7) and fails: 4..7 are lost, 1..3 were acknowledged.
    const { nor, ring } = fullRing({ at: 1, seq: 3 });
    assert.ok(failingCommit(nor, ring, 7) instanceof FlashFaultError);
    const c = ring.counters();
    assert.deepEqual([ring.syncPoint, c.committed, c.dropped, c.pending], [3, 3, 4, 14]);
  }
  {
    // A commit of 4 erases sector 0: 5..7 are dropped whatever happens, 1..4 because the sync point failed.
    const { nor, ring, log } = fullRing();
    assert.ok(failingCommit(nor, ring, 4) instanceof FlashFaultError);
    const c = ring.counters();
    assert.deepEqual([ring.syncPoint, c.committed, c.dropped, c.pending], [0, 0, 7, 14]);
    assert.ok(log.lines.some((l) => l.includes("is full; overwriting its oldest unsynced records")));
  }
  {
    // Sync point 8 covers sector 0 (1..7) entirely: erasing it for a failing commit of 15 drops nothing.
    const { nor, ring } = fullRing({ at: 2, seq: 8 });
    assert.ok(failingCommit(nor, ring, 15) instanceof FlashFaultError);
    const c = ring.counters();
    assert.deepEqual([ring.syncPoint, c.committed, c.dropped, c.pending], [8, 8, 0, 13]);
  }
});

test("reusing a sector whose records were all acknowledged up to its last one warns of nothing", () => {
  const { ring, log } = fullRing({ at: 2, seq: 7 }); // sync point 7: exactly sector 0's last record
  for (let id = 100; id < 105; id++) append(ring, [id], 40); // opens sector 0 again
  const c = ring.counters();
  assert.equal(c.dropped, 0);
  assert.ok(!log.lines.some((l) => l.includes("is full")), log.lines.join("\n"));
});

test("a sync point whose two programs fail is logged as such each time", () => {
  const { nor, ring, log } = fullRing();
  const op = nor.operations;
  nor.armFault({ atOperation: op + 1, tear: "none" });
  nor.armFault({ atOperation: op + 3, tear: "none" });
  let error: unknown;
  try {
    ring.commit(21);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RingWriteError);
  assert.equal(log.lines.filter((l) => l.includes(`ring "${KEY}": sync point program failed`)).length, 2);
});
