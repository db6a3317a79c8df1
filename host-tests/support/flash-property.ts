/*
 * The ring store's property run (platform-free, both lanes): one seed drives
 * random appends (random sizes and counts), budgeted and pipelined reads,
 * partial commits, erase-aheads, wraps and reboots under both rules, checked
 * against a model of what was appended. After every step: every record read
 * is byte-exact and in order, nothing acknowledged comes back, the oldest
 * records are the ones dropped, and the counts reconcile:
 * appended = committed + dropped + discarded + pending.
 */

import type { FlashPort } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";
import { assert } from "../harness/index";
import { Random } from "../harness/random";
import { mappedNor, randomRecord, TestBatch } from "./flash-scenario";

const S = 512;
const LAYOUT: RingLayoutEntry[] = [
  { key: "a", sectors: 3 },
  { key: "b", sectors: 5 },
];

interface Totals {
  appended: number;
  committed: number;
  dropped: number;
  discarded: number;
}

/**
 * How the store sees the partition: through copies only (`read`), mapped (`map()` gives the image
 * itself, as on ESP32), or through a map that lags behind programs (it shows erases, but nothing
 * programmed after the map was made: new frames look erased there, and the store must read them
 * again through `read`). A map showing bytes from before an erase is not modelled: ESP-IDF drops
 * a mapped range from the cache when it is erased.
 */
export type PropertyMapping = "none" | "live" | "lagging" | "torn";

/**
 * A NOR image whose driver also maps the partition. A lagging map is a copy taken at each open; a
 * torn one also shows what is programmed in every other 32-byte cache line (frames across lines
 * look damaged there).
 */
function mappedPort(nor: NorImage, mapping: PropertyMapping): FlashPort {
  if (mapping === "none") return nor;
  if (mapping === "live") return mappedNor(nor, () => nor.bytes);
  let shadow: Uint8Array | undefined;
  const map = () => {
    shadow = nor.bytes.slice();
    return shadow;
  };
  return mappedNor(nor, map, {
    write: (offset, data) => {
      if (shadow && mapping === "torn")
        for (let i = 0; i < data.length; i++)
          if (((offset + i) >> 5) % 2 === 0) shadow[offset + i] = data[i]!;
    },
    erase: (index) => shadow?.fill(0xff, index * nor.sectorSize, (index + 1) * nor.sectorSize),
  });
}

export function runPropertySeed(
  seed: number,
  mapping: PropertyMapping = "none",
): { reads: number; drops: number; reboots: number } {
  const rng = new Random(seed);
  const nor = new NorImage({ size: 12 * S, sectorSize: S });
  const flash = mappedPort(nor, mapping);
  let store: FlashRingStore = openRingStore({ flash, layout: LAYOUT });
  const bytes = LAYOUT.map(() => new Map<number, Uint8Array>());
  const totals: Totals[] = LAYOUT.map(() => ({ appended: 0, committed: 0, dropped: 0, discarded: 0 }));
  const batch = new TestBatch(S * 8, 128);
  let reads = 0;
  let reboots = 0;
  const sessionTotals = (r: number) => {
    const c = store.ring(LAYOUT[r]!.key)!.counters();
    const t = totals[r]!;
    return {
      appended: t.appended + c.appended,
      committed: t.committed + c.committed,
      dropped: t.dropped + c.dropped,
      discarded: t.discarded + c.discarded,
      pending: c.pending,
    };
  };
  for (let step = 0; step < 80; step++) {
    const r = rng.int(LAYOUT.length);
    const ring = store.ring(LAYOUT[r]!.key)!;
    const where = `seed ${seed} step ${step} ring ${ring.key}`;
    const action = rng.float();
    if (action < 0.5) {
      batch.clear();
      const n = 1 + rng.int(40);
      const first = ring.nextSequence;
      for (let i = 0; i < n; i++) {
        const record = randomRecord(rng, 0, 80);
        bytes[r]!.set(first + i, record);
        batch.add(record);
      }
      ring.append(batch);
    } else if (action < 0.8) {
      // Pipelined reads: up to three chunks before the ack of the first ones.
      let after: number | undefined;
      let lastRead = 0;
      const chunks = 1 + rng.int(3);
      for (let k = 0; k < chunks; k++) {
        const chunk = ring.read(rng.int(600), after);
        if (!chunk) break;
        reads++;
        assert.equal(
          chunk.lastSeq - chunk.firstSeq + 1,
          chunk.records.length,
          `${where}: gap without damage`,
        );
        assert.ok(chunk.firstSeq > ring.syncPoint, `${where}: acknowledged record returned`);
        if (after !== undefined) assert.equal(chunk.firstSeq, after + 1, `${where}: pipelined read skipped`);
        let total = 0;
        chunk.records.forEach((rec, i) => {
          assert.deepEqual(rec, bytes[r]!.get(chunk.firstSeq + i), `${where}: record ${chunk.firstSeq + i}`);
          total += rec.length;
        });
        assert.equal(chunk.bytes, total);
        after = chunk.lastSeq;
        lastRead = chunk.lastSeq;
      }
      if (lastRead > 0 && rng.float() < 0.8) ring.commit(lastRead - rng.int(3));
    } else if (action < 0.92) {
      ring.eraseAhead(rng.int(3 * S));
    } else {
      for (let i = 0; i < LAYOUT.length; i++) {
        const c = store.ring(LAYOUT[i]!.key)!.counters();
        const t = totals[i]!;
        t.appended += c.appended;
        t.committed += c.committed;
        t.dropped += c.dropped;
        t.discarded += c.discarded;
        // Records still pending come back as this session's `retained` or `discarded`.
      }
      store.close();
      reboots++;
      store = openRingStore({ flash, layout: LAYOUT, retainUnsynced: rng.float() < 0.5 });
    }
    // Invariants after every step, for both rings.
    for (let i = 0; i < LAYOUT.length; i++) {
      const t = sessionTotals(i);
      const ringI = store.ring(LAYOUT[i]!.key)!;
      const w = `seed ${seed} step ${step} ring ${ringI.key}`;
      assert.equal(
        t.appended,
        t.committed + t.dropped + t.discarded + t.pending,
        `${w}: counts reconcile ${JSON.stringify(t)}`,
      );
      const all = ringI.read(Number.POSITIVE_INFINITY);
      if (t.pending === 0) assert.equal(all, null, `${w}: records though none pending`);
      else {
        assert.ok(all, `${w}: nothing read though ${t.pending} pending`);
        assert.equal(all.records.length, t.pending, `${w}: pending count`);
        assert.equal(all.lastSeq, ringI.nextSequence - 1, `${w}: newest record missing`);
        // Everything dropped is older than everything kept.
        assert.equal(all.firstSeq, ringI.nextSequence - t.pending, `${w}: dropped records not the oldest`);
      }
    }
  }
  const drops =
    totals.reduce((n, t) => n + t.dropped, 0) +
    LAYOUT.reduce((n, e) => n + store.ring(e.key)!.counters().dropped, 0);
  return { reads, drops, reboots };
}
