// What reads cost in flash bytes (each a SPI transfer on the device): a read
// resumes where the last one stopped in the same sector, and a read that
// starts in a later sector goes straight there instead of parsing the
// sectors in between. And erase-ahead asks for exactly as many sectors as the
// record space it was asked for needs.

import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import { FRAME_OVERHEAD_BYTES, SECTOR_PREFIX_BYTES } from "../../modules/storage/ring-format";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { TestBatch } from "../support/flash-scenario";

const S = 512;
const KEY = "sensor/a/Readings";

function record(id: number): Uint8Array {
  const r = new Uint8Array(40).fill(id & 0xff);
  r[1] = id >>> 8;
  return r;
}

/** 30 records of 40 bytes, one per append: 8 per sector (40 + 8 × 53 = 464 bytes), sectors 0..3. */
function filled(): { flash: NorImage; ring: FlashRing } {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  const b = new TestBatch(64, 1);
  for (let id = 1; id <= 30; id++) {
    b.clear();
    b.add(record(id));
    ring.append(b);
  }
  return { flash, ring };
}

function readCost(flash: NorImage, fn: () => void): number {
  const before = flash.bytesRead;
  fn();
  return flash.bytesRead - before;
}

test("a read that starts two sectors after where the last one stopped reads only the sector it starts in", () => {
  const { flash, ring } = filled();
  assert.equal(ring.read(1)!.firstSeq, 1);
  let chunk = ring.read(1);
  const cost = readCost(flash, () => {
    chunk = ring.read(1, 16);
  });
  assert.equal(chunk!.firstSeq, 17);
  assert.deepEqual(chunk!.records[0], record(17));
  assert.ok(cost <= S, `${cost} bytes read`);
});

test("a read that starts at the first record of the next sector does not parse the rest of this one", () => {
  const { flash, ring } = filled();
  ring.read(1);
  ring.read(1); // stops after record 2, inside sector 0
  let chunk = ring.read(1);
  const cost = readCost(flash, () => {
    chunk = ring.read(1, 8);
  });
  assert.equal(chunk!.firstSeq, 9);
  assert.deepEqual(chunk!.records[0], record(9));
  assert.ok(cost <= S / 2, `${cost} bytes read`);
});

test("reading the head sector one record at a time resumes at the last stop: one 256-byte load per read at most", () => {
  const { flash, ring } = filled();
  const seen: number[] = [];
  const cost = readCost(flash, () => {
    let after = 24;
    for (;;) {
      const chunk = ring.read(1, after);
      if (!chunk) break;
      seen.push(chunk.firstSeq);
      after = chunk.lastSeq;
    }
  });
  assert.deepEqual(seen, [25, 26, 27, 28, 29, 30]);
  // Each read loads at least 256 bytes (fewer, larger SPI reads); from the sector start it would need two for the later records.
  assert.ok(cost <= 6 * 256, `${cost} bytes read for 6 records of the head sector`);
});

test("erase-ahead erases exactly as many sectors as the record space asked for needs", () => {
  const perSector = S - SECTOR_PREFIX_BYTES - FRAME_OVERHEAD_BYTES;
  for (const [bytes, sectors] of [
    [1, 1],
    [perSector, 1],
    [perSector + 1, 2],
    [2 * perSector, 2],
    [2 * perSector + 1, 3],
  ] as const) {
    const flash = new NorImage({ size: 16 * S, sectorSize: S });
    const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
    assert.equal(ring.eraseAhead(bytes), sectors, `${bytes} bytes`);
    assert.equal(ring.writableWithoutErase(), sectors * perSector);
  }
});

test("reading a backlog in budget-sized chunks reads about what it returns, not the rest of the sector", () => {
  const big = 4096;
  const flash = new NorImage({ size: 8 * big, sectorSize: big });
  const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  const b = new TestBatch(64, 1);
  for (let id = 1; id <= 200; id++) {
    b.clear();
    b.add(record(id));
    ring.append(b);
  }
  const written = ring.counters().bytesUsed;
  let count = 0;
  const cost = readCost(flash, () => {
    let after: number | undefined;
    for (;;) {
      const chunk = ring.read(400, after);
      if (!chunk) break;
      assert.ok(chunk.bytes <= 400);
      count += chunk.records.length;
      after = chunk.lastSeq;
    }
  });
  assert.equal(count, 200);
  assert.ok(cost <= 1.5 * written, `${cost} bytes read for ${written} written`);
});

test("each read loads about its budget's worth of frames (payload budget + 1/8, framing, two frames, one 256-byte step) in at most 4 flash reads", () => {
  const big = 4096;
  for (const size of [20, 47, 90]) {
    for (const budget of [100, 700, 1500]) {
      const flash = new NorImage({ size: 8 * big, sectorSize: big });
      const ring = openRingStore({ flash, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
      const b = new TestBatch(256, 1);
      for (let id = 1; id <= 150; id++) {
        b.clear();
        b.add(new Uint8Array(size).fill(id & 0xff));
        ring.append(b);
      }
      // Flash bytes per payload byte: a one-record frame adds 12 bytes of framing and a 1-byte length.
      const perPayload = (size + 13) / size;
      const bound = (budget + (budget >> 3)) * perPayload + 2 * (size + 13) + 256;
      let after: number | undefined;
      let count = 0;
      for (;;) {
        let chunk: ReturnType<FlashRing["read"]> = null;
        const ops = flash.readOps;
        const cost = readCost(flash, () => {
          chunk = ring.read(budget, after);
        });
        // One load for the budget and one for a frame straddling its end, per sector; a chunk here spans two at most.
        assert.ok(
          flash.readOps - ops <= 4,
          `${size}-byte records, budget ${budget}: ${flash.readOps - ops} flash reads`,
        );
        if (!chunk) break;
        const got: NonNullable<ReturnType<FlashRing["read"]>> = chunk;
        count += got.records.length;
        after = got.lastSeq;
        assert.ok(
          cost <= bound,
          `${size}-byte records, budget ${budget}: ${cost} bytes read, bound ${bound}`,
        );
      }
      assert.equal(count, 150);
    }
  }
});
