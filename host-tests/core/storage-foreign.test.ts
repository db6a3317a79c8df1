// Whatever the partition holds (random bytes, zeros, another geometry's
// layout, damaged sectors, bit rot), opening it never crashes: the store
// formats or recovers, logs why, returns only records whose CRC checks, and
// stays usable.

import { crc32 } from "../../modules/storage/crc32";
import { encodeLayoutRecord } from "../../modules/storage/layout-record";
import { NorImage } from "../../modules/storage/nor-image";
import {
  encodeSectorHeader,
  FRAME_BATCH,
  FRAME_SYNC,
  putU16,
  putU32,
  type SectorHeader,
  sealFrame,
} from "../../modules/storage/ring-format";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { RecordingLogger, randomRecord, TestBatch } from "../support/flash-scenario";
import { scaled } from "../support/mutation-scale";

const S = 512;
const LAYOUT: RingLayoutEntry[] = [
  { key: "a", sectors: 4 },
  { key: "b", sectors: 4 },
];

/** The store on `flash` works end to end: append, read back, commit, reopen. */
function assertUsable(flash: NorImage, store: FlashRingStore, what: string): void {
  const batch = new TestBatch(S, 8);
  const record = new Uint8Array([1, 2, 3, 4, 5]);
  for (const entry of LAYOUT) {
    const ring = store.ring(entry.key);
    assert.ok(ring, `${what}: ring ${entry.key} missing`);
    batch.clear();
    batch.add(record);
    const seq = ring.nextSequence;
    ring.append(batch);
    const chunk = ring.read(100, seq - 1);
    assert.ok(chunk, `${what}: record not readable`);
    assert.deepEqual(chunk.records[0], record, `${what}: record bytes`);
    ring.commit(chunk.lastSeq);
  }
  store.close();
  const again = openRingStore({ flash, retainUnsynced: true });
  assert.equal(again.openReport.formatted, false, `${what}: formatted again on the next boot`);
  for (const entry of LAYOUT) {
    const ring = again.ring(entry.key)!;
    assert.equal(ring.read(1000), null, `${what}: committed record returned after reboot`);
  }
}

function fillImage(seed: number, f: (i: number, rng: Random) => number): NorImage {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const rng = new Random(seed);
  for (let i = 0; i < flash.bytes.length; i++) flash.bytes[i] = f(i, rng);
  return flash;
}

test("random bytes: formatted with a logged reason, then usable (20 seeds)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const flash = fillImage(seed, (_i, rng) => rng.u32() & 0xff);
    const log = new RecordingLogger();
    const store = openRingStore({ flash, log, layout: LAYOUT });
    assert.ok(store.openReport.formatted, `seed ${seed}`);
    assert.ok(
      log.has(/warn storage: formatting partition: slot 0: .*slot 1: /),
      `seed ${seed}: ${log.lines[0]}`,
    );
    for (const entry of LAYOUT)
      assert.equal(store.ring(entry.key)!.read(1 << 20), null, `seed ${seed}: records from noise`);
    assertUsable(flash, store, `random seed ${seed}`);
  }
});

test("all zeros: formatted with a logged reason, then usable", () => {
  const flash = fillImage(0, () => 0);
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: LAYOUT });
  assert.ok(store.openReport.formatted);
  assert.ok(/no layout magic/.test(store.openReport.reason));
  assert.ok(log.has(/formatting partition/));
  assertUsable(flash, store, "zeros");
});

test("blank flash: formatted quietly (info, not a warning)", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, layout: LAYOUT });
  assert.equal(store.openReport.reason, "blank");
  assert.ok(log.has(/info storage: blank partition/));
  assert.ok(!log.lines.some((l) => l.startsWith("warn")));
  assertUsable(flash, store, "blank");
});

test("a layout written for another partition geometry is not trusted", () => {
  const big = new NorImage({ size: 32 * S, sectorSize: S });
  const batch = new TestBatch(S, 8);
  batch.add(new Uint8Array([9, 9, 9]));
  const first = openRingStore({ flash: big, layout: LAYOUT });
  first.ring("a")!.append(batch);
  first.close();
  // The same bytes in a smaller partition (a changed partition table).
  const small = new NorImage({ size: 16 * S, sectorSize: S });
  small.bytes.set(big.bytes.subarray(0, small.size));
  const log = new RecordingLogger();
  const store = openRingStore({ flash: small, log, layout: LAYOUT, retainUnsynced: true });
  assert.ok(store.openReport.formatted);
  assert.ok(
    /written for 32 sectors of 512 bytes, this partition has 16 of 512/.test(store.openReport.reason),
  );
  // Ring ids of the new layout start above the old ones, so old sectors stay foreign.
  assert.equal(store.ring("a")!.read(1000), null, "records from the old layout leaked in");
  assertUsable(small, store, "other geometry");
});

test("a CRC-valid layout record describing impossible rings is rejected", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const record = encodeLayoutRecord({
    generation: 5,
    sectorSize: S,
    sectorCount: 16,
    nextRingId: 9,
    rings: [
      { key: "a", ringId: 1, firstSector: 2, sectors: 6 },
      { key: "b", ringId: 2, firstSector: 5, sectors: 4 },
    ],
  });
  flash.write(0, record);
  const store = openRingStore({ flash, layout: LAYOUT });
  assert.ok(store.openReport.formatted);
  assert.ok(/overlap/.test(store.openReport.reason), store.openReport.reason);
  assertUsable(flash, store, "overlapping layout");
});

test("a damaged current layout slot falls back to the previous one, with a warning", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const batch = new TestBatch(S, 8);
  batch.add(new Uint8Array([7, 7]));
  const first = openRingStore({ flash, layout: LAYOUT }); // generation 1 in slot 0
  first.ring("a")!.append(batch);
  first.configure([...LAYOUT, { key: "c", sectors: 2 }]); // generation 2 in slot 1
  first.close();
  flash.bytes[S + 10]! ^= 0x40;
  const log = new RecordingLogger();
  const store = openRingStore({ flash, log, retainUnsynced: true });
  assert.equal(store.openReport.formatted, false);
  assert.equal(store.openReport.layoutGeneration, 1);
  assert.ok(log.has(/warn storage: using layout slot 0; ignoring slot 1: layout CRC mismatch/));
  assert.deepEqual(store.ring("a")!.read(100)!.records[0], new Uint8Array([7, 7]));
});

test("a damaged frame in a middle sector: skipped, counted, logged; everything else intact", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: "a", sectors: 8 }] });
  const ring = store.ring("a")!;
  const batch = new TestBatch(S * 4, 64);
  const sent: Uint8Array[] = [];
  for (let k = 0; k < 6; k++) {
    batch.clear();
    for (let i = 0; i < 20; i++) {
      const r = new Uint8Array(30).fill(sent.length & 0xff);
      sent.push(r);
      batch.add(r);
    }
    ring.append(batch);
  }
  store.close();
  // Flip one payload bit in the ring's third sector (sector 2 + 2 = 4).
  flash.bytes[4 * S + 100]! ^= 0x01;
  const log = new RecordingLogger();
  const again = openRingStore({ flash, log, retainUnsynced: true }).ring("a")!;
  const chunk = again.read(1 << 20)!;
  assert.ok(chunk.records.length < sent.length, "the damaged frame's records were returned");
  assert.ok(chunk.records.length > sent.length - 40, "more than the damaged sector was lost");
  const seqs: number[] = [];
  let after: number | undefined;
  for (;;) {
    const one = again.read(0, after);
    if (!one) break;
    seqs.push(one.firstSeq);
    assert.deepEqual(one.records[0], sent[one.firstSeq - 1], `record ${one.firstSeq}`);
    after = one.firstSeq;
  }
  assert.equal(seqs.length, chunk.records.length);
  assert.equal(again.counters().corrupt, 1, "counted once however often it is read");
  assert.ok(log.has(/damaged frame/));
  // Commit past the damage, and keep going.
  again.commit(chunk.lastSeq);
  assert.equal(again.read(1 << 20), null);
});

test("a damaged head sector header: the sector stays in the ring, its records are returned, no number reused", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const store = openRingStore({ flash, layout: [{ key: "a", sectors: 8 }] });
  const ring = store.ring("a")!;
  const batch = new TestBatch(S * 4, 64);
  for (let k = 0; k < 3; k++) {
    batch.clear();
    for (let i = 0; i < 12; i++) batch.add(new Uint8Array(30).fill(k * 12 + i));
    ring.append(batch);
  }
  const head = ring.nextSequence;
  store.close();
  // Find the last sector with a header and break it.
  let last = -1;
  for (let s = 2; s < 10; s++) if (flash.bytes[s * S] === 0x52) last = s;
  // Its first-record-sequence field (a damaged ring id is in storage-torn-fields.test.ts).
  flash.bytes[last * S + 13]! ^= 0xff;
  const again = openRingStore({ flash, retainUnsynced: true }).ring("a")!;
  const chunk = again.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 1);
  assert.equal(chunk.lastSeq, head - 1, "the head's records are still returned");
  assert.equal(again.counters().corrupt, 1, "the damaged header is counted");
  chunk.records.forEach((r, i) => {
    assert.equal(r[0], chunk.firstSeq + i - 1);
  });
  // New records get numbers after every one used before, and the ring keeps working.
  batch.clear();
  batch.add(new Uint8Array([200]));
  again.append(batch);
  const fresh = again.read(1, chunk.lastSeq)!;
  assert.deepEqual(fresh.records[0], new Uint8Array([200]));
  assert.ok(fresh.firstSeq >= head, `new record numbered ${fresh.firstSeq}, below ${head}`);
});

test("random bit rot over a populated image never yields a wrong record (100 seeds)", () => {
  const seeds = scaled(100, 30);
  let returned = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const rng = new Random(seed);
    const flash = new NorImage({ size: 16 * S, sectorSize: S });
    const store = openRingStore({ flash, layout: LAYOUT });
    const sent = LAYOUT.map(() => new Map<number, Uint8Array>());
    const batch = new TestBatch(S * 4, 64);
    for (let k = 0; k < 10; k++) {
      const r = k % 2;
      const ring = store.ring(LAYOUT[r]!.key)!;
      batch.clear();
      const first = ring.nextSequence;
      const n = 1 + rng.int(20);
      for (let i = 0; i < n; i++) {
        const rec = randomRecord(rng, 0, 40);
        sent[r]!.set(first + i, rec);
        batch.add(rec);
      }
      ring.append(batch);
    }
    store.close();
    const flips = 1 + rng.int(12);
    for (let i = 0; i < flips; i++) flash.bytes[rng.int(flash.size)]! ^= 1 << rng.int(8);
    const again = openRingStore({ flash, layout: LAYOUT, retainUnsynced: true });
    LAYOUT.forEach((entry, r) => {
      const ring = again.ring(entry.key)!;
      let after: number | undefined;
      for (let guard = 0; guard < 1000; guard++) {
        const one = ring.read(0, after);
        if (!one) break;
        assert.deepEqual(
          one.records[0],
          sent[r]!.get(one.firstSeq),
          `seed ${seed} ${entry.key} record ${one.firstSeq}`,
        );
        returned++;
        after = one.firstSeq;
      }
    });
    assertUsable(flash, again, `bit rot seed ${seed}`);
  }
  assert.ok(returned > 5 * seeds, `only ${returned} records survived: the check proves little`);
});

test("a CRC-valid layout record with invalid UTF-8 in a key opens without throwing", () => {
  const flash = new NorImage({ size: 16 * S, sectorSize: S });
  const record = encodeLayoutRecord({
    generation: 1,
    sectorSize: S,
    sectorCount: 16,
    nextRingId: 3,
    rings: [{ key: "ab", ringId: 1, firstSector: 2, sectors: 4 }],
  });
  // Replace the key with a 4-byte sequence whose code point exceeds U+10FFFF, then fix the CRC.
  const bad = new Uint8Array(record.length + 2);
  bad.set(record.subarray(0, 28));
  bad.set([1, 0, 0, 0, 2, 0, 4, 0, 4, 0xf7, 0xbf, 0xbf, 0xbf], 28);
  bad[6] = bad.length;
  const crc = crc32(bad, 0, bad.length - 4);
  bad.set([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24], bad.length - 4);
  flash.write(0, bad);
  const store = openRingStore({ flash, layout: LAYOUT });
  assert.equal(store.openReport.formatted, false);
  assert.equal(store.storedLayout().length, 2, "the odd ring was replaced by the configured ones");
  assertUsable(flash, store, "invalid UTF-8 key");
});

test("adversarial contents with valid CRCs (random headers, frames, sync points) never crash (60 seeds)", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Random(seed * 7919);
    const flash = new NorImage({ size: 16 * S, sectorSize: S });
    flash.write(
      0,
      encodeLayoutRecord({
        generation: 1,
        sectorSize: S,
        sectorCount: 16,
        nextRingId: 3,
        rings: [
          { key: "a", ringId: 1, firstSector: 2, sectors: 4 },
          { key: "b", ringId: 2, firstSector: 6, sectors: 4 },
        ],
      }),
    );
    const b = flash.bytes;
    for (let s = 2; s < 10; s++) {
      if (rng.float() < 0.2) continue;
      const base = s * S;
      const h: SectorHeader = {
        ringId: 1 + rng.int(3),
        sectorSeq: rng.int(6),
        firstSeq: 1 + (rng.float() < 0.3 ? rng.u32() * 65536 : rng.int(200)),
        syncPoint: rng.float() < 0.3 ? rng.u32() : rng.int(300),
      };
      encodeSectorHeader(b, base, h);
      let pos = base + 28;
      const frames = rng.int(6);
      for (let f = 0; f < frames && pos + 12 + 40 < base + S; f++) {
        const sync = rng.float() < 0.4;
        const count = sync ? 0 : 1 + rng.int(4);
        const lengths: number[] = [];
        for (let r = 0; r < count; r++) lengths.push(rng.int(8));
        let p = pos + 8;
        for (const len of lengths) b[p++] = len;
        for (const len of lengths) for (let i = 0; i < len; i++) b[p++] = rng.u32() & 0xff;
        b[pos] = sync ? FRAME_SYNC : FRAME_BATCH;
        b[pos + 1] = count;
        putU16(b, pos + 2, p - pos - 8);
        putU32(b, pos + 4, rng.float() < 0.5 ? h.firstSeq + rng.int(20) : rng.u32());
        p = sealFrame(b, pos, p);
        pos = p;
      }
    }
    for (const retainUnsynced of [true, false]) {
      const image = new NorImage({ bytes: b.slice(), sectorSize: S });
      const store = openRingStore({ flash: image, layout: LAYOUT, retainUnsynced });
      for (const ring of store.rings()) {
        let after: number | undefined;
        for (let guard = 0; guard < 100; guard++) {
          const chunk = ring.read(64, after);
          if (!chunk) break;
          assert.ok(chunk.firstSeq > ring.syncPoint, `seed ${seed}: returned at or below the sync point`);
          assert.ok(after === undefined || chunk.firstSeq > after, `seed ${seed}: read went backwards`);
          after = chunk.lastSeq;
        }
      }
      assertUsable(image, store, `adversarial seed ${seed}`);
    }
  }
});
