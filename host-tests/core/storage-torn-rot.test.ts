// Random bit rot (1 to 3 flipped bits anywhere in a ring's sectors, headers, marks, frames and sync
// frames alike) after a reader has seen every record: on reopen, under every seed, no number comes
// back with other data, appends go on under fresh numbers and read back, a second reopen agrees,
// and the census equals a count of the records whenever every pending record is readable.

import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { RecordingLogger, randomRecord, TestBatch } from "../support/flash-scenario";
import { scaled } from "../support/mutation-scale";

const S = 512;
const KEY = "rdk:component:sensor/rot/Readings";
const recordUnits = (b: Uint8Array, start: number, end: number): number => (end > start ? b[start]! % 7 : 0);

function open(flash: NorImage, log = new RecordingLogger()): FlashRing {
  return openRingStore({
    flash,
    log,
    layout: [{ key: KEY, sectors: 6 }],
    recordUnits,
    retainUnsynced: true,
  }).ring(KEY)!;
}

/** Every pending record with its sequence number, read one at a time (exact across gaps). */
function readAll(ring: FlashRing): { seq: number; bytes: Uint8Array }[] {
  const out: { seq: number; bytes: Uint8Array }[] = [];
  let after: number | undefined;
  for (let guard = 0; guard < 2000; guard++) {
    const one = ring.read(0, after);
    if (!one) break;
    out.push({ seq: one.firstSeq, bytes: one.records[0]! });
    after = one.firstSeq;
  }
  return out;
}

test(`bit rot anywhere in a ring: no number ever comes back with other data (${scaled(300, 60)} seeds)`, () => {
  let compared = 0;
  let damagedOpens = 0;
  for (let seed = 1; seed <= scaled(300, 60); seed++) {
    const rng = new Random(seed * 7919);
    const flash = new NorImage({ size: 10 * S, sectorSize: S });
    const ring = open(flash);
    const batch = new TestBatch(4 * S, 64);
    /** Everything ever appended, by sequence: what a reader may have seen under each number. */
    const seen = new Map<number, Uint8Array>();
    const steps = 4 + rng.int(40);
    for (let step = 0; step < steps; step++) {
      batch.clear();
      const n = 1 + rng.int(8);
      const first = ring.nextSequence;
      for (let i = 0; i < n; i++) {
        const r = randomRecord(rng, 0, rng.int(6) === 0 ? 200 : 40);
        seen.set(first + i, r);
        batch.add(r);
      }
      ring.append(batch);
      if (rng.int(5) === 0) {
        const chunk = ring.read(1 + rng.int(300));
        if (chunk) ring.commit(chunk.lastSeq);
      }
    }
    const where = `seed ${seed}`;
    for (const r of readAll(ring)) assert.deepEqual(r.bytes, seen.get(r.seq), `${where}: before the rot`);
    const base = ring.firstSector * S;
    const flips = 1 + rng.int(3);
    for (let i = 0; i < flips; i++) flash.bytes[base + rng.int(6 * S)]! ^= 1 << rng.int(8);

    const log = new RecordingLogger();
    const again = open(flash, log);
    if (log.has(/damaged|skipped/)) damagedOpens++;
    const check = (r: FlashRing, label: string) => {
      const got = readAll(r);
      let last = r.syncPoint;
      for (const g of got) {
        assert.ok(g.seq > last, `${where} ${label}: record ${g.seq} out of order or at/below ${last}`);
        last = g.seq;
        const expected = seen.get(g.seq);
        assert.ok(expected, `${where} ${label}: record ${g.seq} was never appended`);
        assert.deepEqual(g.bytes, expected, `${where} ${label}: record ${g.seq} is other data`);
        compared++;
      }
      const c = r.counters();
      const census = r.census();
      assert.equal(census.records, c.pending, `${where} ${label}: census records`);
      if (got.length === c.pending) {
        let units = 0;
        for (const g of got) units += recordUnits(g.bytes, 0, g.bytes.length);
        assert.equal(census.units, units, `${where} ${label}: census units (${log.lines.join(" | ")})`);
      }
      return got;
    };
    check(again, "after the rot");
    // Appends go on under numbers no reader saw, and read back.
    const before = flash.bytes.slice();
    const erases = flash.sectorErases.slice();
    batch.clear();
    const fresh: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      const r = randomRecord(rng, 1, 40);
      fresh.push(r);
      batch.add(r);
    }
    const first = again.nextSequence;
    assert.ok(first > Math.max(...seen.keys()), `${where}: next number ${first} was seen already`);
    again.append(batch);
    fresh.forEach((r, i) => {
      seen.set(first + i, r);
    });
    for (let i = 0; i < flash.size; i++) {
      const s = Math.floor(i / S);
      if (flash.sectorErases[s] === erases[s] && before[i] !== 0xff && flash.bytes[i] !== before[i]) {
        assert.ok(false, `${where}: byte ${i} programmed over`);
      }
    }
    const after = check(again, "after appending");
    assert.deepEqual(
      after.filter((g) => g.seq >= first).map((g) => g.seq),
      [first, first + 1, first + 2, first + 3, first + 4],
      `${where}: the new records read back`,
    );
    const third = open(flash);
    const got3 = check(third, "after a second reopen");
    assert.deepEqual(
      got3.map((g) => g.seq),
      after.map((g) => g.seq),
      `${where}: a second reopen returns the same records`,
    );
  }
  assert.ok(compared > 1000, `records compared: ${compared}`);
  assert.ok(damagedOpens > 10, `opens that found damage: ${damagedOpens}`);
});
