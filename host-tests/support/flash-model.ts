/*
 * Model-based test of the ring store (both lanes): a plain in-memory
 * reference of what each ring must return, compared with the store after
 * every operation. Random operations: appends (records of 1..300 bytes, so
 * both 1- and 2-byte length prefixes), reads, commits, erase-aheads, layout
 * changes through `configure` (rings added, removed, resized), reopens under
 * both reboot rules; injected power cuts of every tear kind (during any of
 * those, `configure` and the reopen included) and flash driver errors on
 * program and erase.
 *
 * The reference is exact where the contract is exact: a record is "sure"
 * once its append returned (or, for a failed append, once the store said it
 * stored it) and must come back, byte for byte, until it is acknowledged or
 * counted as dropped; records of an append cut by power are "maybe" (may come
 * back, exactly, or not at all); an interrupted commit leaves the old or the
 * new sync point; an interrupted layout change leaves the old or the new
 * layout. Drops are allowed only when the operation erased sectors of that
 * ring, and must be counted: the `dropped` counter moves by exactly the
 * records that went, and appended + retained = committed + dropped + pending.
 */

import type { FlashPort } from "../../modules/ports";
import type { FlashRing } from "../../modules/storage/flash-ring";
import { RingWriteError } from "../../modules/storage/flash-ring";
import { NorImage, TEAR_MODES } from "../../modules/storage/nor-image";
import { recordFlashBytes, SECTOR_HEADER_BYTES } from "../../modules/storage/ring-format";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";
import { assert } from "../harness/index";
import { Random } from "../harness/random";
import { mappedNor, randomRecord, TestBatch } from "./flash-scenario";

const S = 512;
const SECTORS = 24;
const KEYS = ["sensor/a/Readings", "sensor/b/Readings", "motor/c/Position", "sensor/d/Readings"];

interface RingRef {
  ringId: number;
  sync: number;
  /** Sync point values a cut may have left instead of `sync`. */
  syncAlt: number[];
  /** Records at or below this are gone (acknowledged, dropped or discarded). */
  floor: number;
  sure: Map<number, Uint8Array>;
  maybe: Map<number, Uint8Array>;
  /** Every record ever handed to this ring's append, by sequence number (last copy wins). */
  history: Map<number, Uint8Array>;
  /** Counter values after the last check. */
  dropped: number;
  /** Records `retained` at the last open (retain rule). */
  retained: number;
  /** An erase of this ring's failed since the last open (a kept header may bring records back). */
  eraseFailed: boolean;
}

export interface ModelRunOptions {
  steps: number;
  /** Chance per step of a power cut armed within the next few flash operations. */
  cutRate?: number;
  /** Chance per step of a flash driver error armed within the next few operations. */
  faultRate?: number;
  /** Told every step and check (debugging a failing seed). */
  trace?: (line: string) => void;
  /**
   * The store's port also maps the partition (FlashPort.map, as on ESP32): reads parse the image in
   * place and go to the driver only for what looks erased or damaged there.
   */
  mapped?: boolean;
}

export interface ModelOutcome {
  steps: number;
  cuts: number;
  faults: number;
  configures: number;
  reopens: number;
  /** Records compared byte for byte, all checks together. */
  compared: number;
  drops: number;
  /** Checks where the census was compared with a count of the records read. */
  censusChecked: number;
}

type Op = "append" | "commit" | "erase" | "configure" | "reopen";

/** What a record counts for in the census: 0..4 from its first byte (3 for an empty record). */
function modelUnits(b: Uint8Array, start: number, end: number): number {
  return end > start ? b[start]! % 5 : 3;
}

export function runModelSeed(seed: number, options: ModelRunOptions): ModelOutcome {
  const rng = new Random(seed);
  const flash = new NorImage({ size: SECTORS * S, sectorSize: S });
  const out: ModelOutcome = {
    steps: 0,
    cuts: 0,
    faults: 0,
    configures: 0,
    reopens: 0,
    compared: 0,
    drops: 0,
    censusChecked: 0,
  };
  const batch = new TestBatch(8192, 64);
  let layout = randomLayout(rng);
  let retain = rng.float() < 0.5;
  // The model arms cuts and faults on the NOR image; the store may see it through a mapping port.
  const port: FlashPort = options.mapped ? mappedNor(flash, () => flash.bytes) : flash;
  let store = openRingStore({ flash: port, recordUnits: modelUnits, retainUnsynced: retain, layout });
  const refs = new Map<string, RingRef>();
  adoptLayout(store, refs, new Map());
  const label = (step: number, what: string) => `seed ${seed}, step ${step} (${what})`;

  for (let step = 0; step < options.steps; step++) {
    out.steps++;
    const roll = rng.float();
    const op: Op =
      roll < 0.45
        ? "append"
        : roll < 0.7
          ? "commit"
          : roll < 0.8
            ? "erase"
            : roll < 0.9
              ? "configure"
              : "reopen";
    const keys = store.rings().map((r) => r.key);
    const key = keys.length > 0 ? rng.pick(keys) : undefined;
    const cutArmed = rng.float() < (options.cutRate ?? 0.12);
    const faultArmed = !cutArmed && op !== "reopen" && rng.float() < (options.faultRate ?? 0.15);
    if (cutArmed) {
      flash.armPowerCut({
        atOperation: flash.operations + rng.int(4),
        tear: rng.pick(TEAR_MODES),
        seed: rng.u32(),
      });
    } else if (faultArmed) {
      flash.armFault({
        atOperation: flash.operations + rng.int(3),
        tear: rng.pick(TEAR_MODES),
        seed: rng.u32(),
      });
      if (rng.float() < 0.3) {
        flash.armFault({
          atOperation: flash.operations + 2 + rng.int(3),
          tear: rng.pick(TEAR_MODES),
          seed: rng.u32(),
        });
      }
    }
    const erasesBefore = flash.sectorErases.slice();
    const what = `${op}${key ? ` ${key}` : ""}${cutArmed ? " + cut" : ""}${faultArmed ? " + fault" : ""}`;
    const where = label(step, what);
    options.trace?.(
      `${where}: ops ${flash.operations}, ${key ? JSON.stringify(store.ring(key)!.counters()) : ""}`,
    );
    // What the interrupted operation may have left, per key.
    const inDoubt = new Map<string, { records?: Map<number, Uint8Array>; sync?: number; reopen?: boolean }>();
    let layoutAfter = layout;
    let reopenRetain = retain;
    try {
      if (op === "append" && key) {
        const ring = store.ring(key)!;
        const ref = refs.get(key)!;
        batch.clear();
        const n = 1 + rng.int(10);
        const first = ring.nextSequence;
        const list: Uint8Array[] = [];
        for (let i = 0; i < n; i++) {
          const record = rng.int(8) === 0 ? randomRecord(rng, 128, 300) : randomRecord(rng, 1, 60);
          list.push(record);
          batch.add(record);
        }
        const pending = new Map<number, Uint8Array>();
        list.forEach((r, i) => {
          pending.set(first + i, r);
          ref.history.set(first + i, r);
        });
        inDoubt.set(key, { records: pending });
        try {
          ring.append(batch);
          list.forEach((r, i) => {
            ref.sure.set(first + i, r);
          });
        } catch (error) {
          if (flash.poweredOff) throw error;
          out.faults++;
          if (/erase/.test((error as Error).message)) ref.eraseFailed = true;
          const stored = error instanceof RingWriteError ? error.stored : 0;
          options.trace?.(
            `${where}: append of ${first}..${first + n - 1} failed, ${stored} stored: ${(error as Error).message}`,
          );
          for (let i = 0; i < stored; i++) ref.sure.set(first + i, list[i]!);
          assert.equal(ring.nextSequence, first + stored, `${where}: numbering after a failed append`);
        }
      } else if (op === "commit" && key) {
        const ring = store.ring(key)!;
        const ref = refs.get(key)!;
        const chunk = ring.read(1 + rng.int(600));
        if (chunk) {
          const upto = rng.float() < 0.2 ? chunk.firstSeq : chunk.lastSeq;
          const floorBefore = ring.nextSequence - 1 - ring.counters().pending;
          // The store persists at least its floor (records already dropped stay done with).
          const expected =
            upto > ref.sync ? Math.max(Math.min(upto, ring.nextSequence - 1), floorBefore) : ref.sync;
          inDoubt.set(key, { sync: expected });
          try {
            ring.commit(upto);
            assert.equal(ring.syncPoint, expected, `${where}: sync point after commit(${upto})`);
            ref.sync = expected;
          } catch (error) {
            if (flash.poweredOff) throw error;
            out.faults++;
            if (/erase/.test((error as Error).message)) ref.eraseFailed = true;
            else assert.ok(error instanceof RingWriteError, `${where}: commit error ${String(error)}`);
            assert.equal(ring.syncPoint, ref.sync, `${where}: sync point after a failed commit`);
          }
        }
      } else if (op === "erase" && key) {
        try {
          store.ring(key)!.eraseAhead(rng.int(3 * S));
        } catch (error) {
          if (flash.poweredOff) throw error;
          out.faults++;
          refs.get(key)!.eraseFailed = true;
        }
      } else if (op === "configure") {
        out.configures++;
        layoutAfter = rng.float() < 0.2 ? layout : mutateLayout(rng, layout);
        const before = new Map(store.rings().map((r) => [r.key, r]));
        try {
          store.configure(layoutAfter);
          // Unchanged rings keep their object (and so their records); the reference follows the store.
          for (const [k, r] of before) {
            const again = layoutAfter.find((e) => e.key === k);
            const prev = layout.find((e) => e.key === k);
            if (again && prev && again.sectors === prev.sectors) {
              assert.ok(store.ring(k) === r, `${where}: unchanged ring ${k} was replaced`);
            }
          }
          layout = layoutAfter;
          adoptLayout(store, refs, before);
        } catch (error) {
          if (flash.poweredOff) throw error;
          out.faults++;
          for (const [k, r] of before) assert.ok(store.ring(k) === r, `${where}: failed configure lost ${k}`);
          assert.equal(store.rings().length, before.size, `${where}: failed configure changed the rings`);
        }
      } else if (op === "reopen") {
        out.reopens++;
        reopenRetain = rng.float() < 0.5;
        for (const r of store.rings()) {
          if (!reopenRetain && r.counters().pending > 0)
            inDoubt.set(r.key, { sync: r.nextSequence - 1, reopen: true });
        }
        store.close();
        store = openRingStore({
          flash: port,
          recordUnits: modelUnits,
          retainUnsynced: reopenRetain,
          layout: rng.float() < 0.5 ? layout : undefined,
        });
        retain = reopenRetain;
        afterOpen(store, refs, retain, where);
      }
    } catch (error) {
      if (!flash.poweredOff) throw error;
      out.cuts++;
      const torn = /erase of sector (\d+)/.exec((error as Error).message);
      flash.reboot();
      const erasing = new Map<string, number>();
      for (const p of store.storedLayout()) {
        let n = 0;
        for (let s = p.firstSector; s < p.firstSector + p.sectors; s++) {
          if (flash.sectorErases[s] !== erasesBefore[s] || (torn && Number(torn[1]) === s)) n++;
        }
        erasing.set(p.key, n);
      }
      const storedBefore = store.storedLayout().map((p) => ({ ...p }));
      retain = rng.float() < 0.5;
      store = openRingStore({ flash: port, recordUnits: modelUnits, retainUnsynced: retain });
      // An interrupted layout change leaves the old layout or the new one.
      const now = store.storedLayout();
      const same = (
        a: readonly { key: string; ringId: number }[],
        b: readonly { key: string; ringId: number }[],
      ) => a.length === b.length && a.every((p, i) => p.key === b[i]!.key && p.ringId === b[i]!.ringId);
      if (!same(now, storedBefore)) {
        assert.ok(
          op === "configure" || op === "reopen",
          `${where}: the layout changed after a cut outside configure`,
        );
        if (op === "configure") {
          const wanted = layoutAfter.filter((e) => now.some((p) => p.key === e.key));
          assert.equal(now.length, wanted.length, `${where}: the new layout after the cut`);
          layout = layoutAfter;
        }
      }
      verifyAfterCut(store, refs, inDoubt, erasing, retain, where, out);
      // Whatever the cut left is the reference from here on (checked above to be allowed).
      if (!retain) for (const r of store.rings()) refs.get(r.key)!.retained = 0;
    } finally {
      flash.disarm();
    }
    out.drops += checkAll(store, refs, retain, label(step, `${what}, check`), out);
  }
  store.close();
  return out;
}

function randomLayout(rng: Random): RingLayoutEntry[] {
  const out: RingLayoutEntry[] = [];
  for (const key of KEYS) if (rng.float() < 0.7) out.push({ key, sectors: 2 + rng.int(4) });
  if (out.length === 0) out.push({ key: KEYS[0]!, sectors: 3 });
  return out;
}

/** Another layout: a ring added, removed or resized (others unchanged). */
function mutateLayout(rng: Random, layout: RingLayoutEntry[]): RingLayoutEntry[] {
  const next = layout.map((e) => ({ ...e }));
  const r = rng.float();
  const missing = KEYS.filter((k) => !next.some((e) => e.key === k));
  if (r < 0.35 && missing.length > 0) next.push({ key: rng.pick(missing), sectors: 2 + rng.int(5) });
  else if (r < 0.65 && next.length > 1) next.splice(rng.int(next.length), 1);
  else if (next.length > 0) next[rng.int(next.length)]!.sectors = 2 + rng.int(5);
  return next;
}

function emptyRef(ring: FlashRing): RingRef {
  return {
    ringId: ring.ringId,
    sync: ring.syncPoint,
    syncAlt: [],
    floor: ring.nextSequence - 1 - ring.counters().pending,
    sure: new Map(),
    maybe: new Map(),
    history: new Map(),
    dropped: ring.counters().dropped,
    retained: 0,
    eraseFailed: false,
  };
}

/** After a layout change that returned: rings that kept their object keep their reference; new ones start empty. */
function adoptLayout(
  store: FlashRingStore,
  refs: Map<string, RingRef>,
  before: Map<string, FlashRing>,
): void {
  const keep = new Map<string, RingRef>();
  for (const ring of store.rings()) {
    const ref = refs.get(ring.key);
    if (ref && before.get(ring.key) === ring) keep.set(ring.key, ref);
    else {
      assert.equal(ring.read(1 << 20), null, `new ring ${ring.key} returned records`);
      keep.set(ring.key, emptyRef(ring));
    }
  }
  refs.clear();
  for (const [k, r] of keep) refs.set(k, r);
}

/** After a clean reopen: same rings (by id) keep their reference; the discard rule acknowledges everything. */
function afterOpen(store: FlashRingStore, refs: Map<string, RingRef>, retain: boolean, where: string): void {
  const next = new Map<string, RingRef>();
  for (const ring of store.rings()) {
    const ref = refs.get(ring.key);
    if (!ref || ref.ringId !== ring.ringId) {
      assert.equal(ring.read(1 << 20), null, `${where}: new ring ${ring.key} returned records`);
      next.set(ring.key, emptyRef(ring));
      continue;
    }
    const c = ring.counters();
    if (retain) {
      assert.equal(ring.syncPoint, ref.sync, `${where}: ${ring.key} sync point across a clean reopen`);
      ref.retained = c.retained;
      // Records dropped in RAM whose sector's erase failed (header kept) may be
      // found again at open: only exact copies of what was appended.
      const floor = ring.nextSequence - 1 - c.pending;
      if (floor < ref.floor) {
        assert.ok(ref.eraseFailed, `${where}: ${ring.key} floor went back at open without a failed erase`);
        for (const g of returned(ring)) {
          if (g.seq > ref.floor) break;
          const bytes = ref.history.get(g.seq);
          assert.ok(bytes, `${where}: ${ring.key} record ${g.seq} found again was never appended`);
          assert.deepEqual(g.bytes, bytes, `${where}: ${ring.key} record ${g.seq} found again`);
          ref.sure.set(g.seq, bytes);
        }
        ref.floor = floor;
      }
      ref.eraseFailed = false;
    } else {
      assert.ok(ring.syncPoint >= ref.sync, `${where}: ${ring.key} sync point went back`);
      assert.equal(c.pending, 0, `${where}: ${ring.key} pending after a discarding open`);
      ref.sync = ring.syncPoint;
      ref.retained = 0;
      ref.sure.clear();
      ref.maybe.clear();
    }
    ref.dropped = c.dropped;
    next.set(ring.key, ref);
  }
  refs.clear();
  for (const [k, r] of next) refs.set(k, r);
}

/** Records a ring returns now, with their sequence numbers (exact across gaps). */
function returned(ring: FlashRing): { seq: number; bytes: Uint8Array }[] {
  const chunk = ring.read(Number.POSITIVE_INFINITY);
  if (!chunk) return [];
  if (chunk.lastSeq - chunk.firstSeq + 1 === chunk.records.length) {
    return chunk.records.map((bytes, i) => ({ seq: chunk.firstSeq + i, bytes }));
  }
  const out: { seq: number; bytes: Uint8Array }[] = [];
  let after: number | undefined;
  for (;;) {
    const one = ring.read(0, after);
    if (!one) return out;
    out.push({ seq: one.firstSeq, bytes: one.records[0]! });
    after = one.firstSeq;
  }
}

function verifyAfterCut(
  store: FlashRingStore,
  refs: Map<string, RingRef>,
  inDoubt: Map<string, { records?: Map<number, Uint8Array>; sync?: number; reopen?: boolean }>,
  erasing: Map<string, number>,
  retain: boolean,
  where: string,
  out: ModelOutcome,
): void {
  const next = new Map<string, RingRef>();
  for (const ring of store.rings()) {
    const ref = refs.get(ring.key);
    if (!ref || ref.ringId !== ring.ringId) {
      assert.equal(ring.read(1 << 20), null, `${where}: new ring ${ring.key} returned records after the cut`);
      next.set(ring.key, emptyRef(ring));
      continue;
    }
    const doubt = inDoubt.get(ring.key);
    const allowed = [ref.sync, ...(doubt?.sync !== undefined ? [doubt.sync] : [])];
    const c = ring.counters();
    // A discarding open that found damage at the head persists a sync point past the numbers it
    // skipped (under two sectors' worth, docs/storage.md): no record was ever appended under them.
    const pastSkipped =
      doubt?.reopen === true &&
      doubt.sync !== undefined &&
      ring.syncPoint > doubt.sync &&
      ring.syncPoint < doubt.sync + 2 * S;
    if (retain) {
      assert.ok(
        allowed.includes(ring.syncPoint) || pastSkipped,
        `${where}: ${ring.key} sync point ${ring.syncPoint} not in ${allowed}`,
      );
    } else {
      assert.ok(ring.syncPoint >= ref.sync, `${where}: ${ring.key} sync point went back`);
    }
    const got = returned(ring);
    const floor = ring.nextSequence - 1 - c.pending;
    let last = Math.max(ring.syncPoint, floor);
    const seen = new Set<number>();
    for (const g of got) {
      assert.ok(g.seq > last, `${where}: ${ring.key} record ${g.seq} out of order or at/below ${last}`);
      last = g.seq;
      // A record from below the reference's floor can come back only from a
      // sector whose erase was cut or failed (its header kept): exact bytes.
      const expected =
        ref.sure.get(g.seq) ?? doubt?.records?.get(g.seq) ?? ref.maybe.get(g.seq) ?? ref.history.get(g.seq);
      assert.ok(expected, `${where}: ${ring.key} returned record ${g.seq} that was never appended`);
      assert.deepEqual(g.bytes, expected, `${where}: ${ring.key} record ${g.seq} bytes`);
      seen.add(g.seq);
      out.compared++;
    }
    if (retain) {
      // Sure records above the reference's floor and sync point come back, unless
      // the cut operation erased this ring's sectors: at most those sectors' worth.
      let lostBytes = 0;
      for (const [seq, bytes] of ref.sure) {
        if (seq <= Math.max(ref.floor, ring.syncPoint) || seen.has(seq)) continue;
        // Only a sector being erased loses records; a torn erase that kept its
        // header leaves them at or above the floor, unreadable (CRC).
        lostBytes += recordFlashBytes(bytes.length);
        if (seq > floor)
          assert.ok(
            (erasing.get(ring.key) ?? 0) > 0,
            `${where}: ${ring.key} sure record ${seq} lost (floor ${floor})`,
          );
      }
      const sectors = erasing.get(ring.key) ?? 0;
      assert.ok(
        lostBytes <= sectors * (S - SECTOR_HEADER_BYTES),
        `${where}: ${ring.key} lost ${lostBytes} bytes of records with ${sectors} sector erase(s) in flight`,
      );
    } else {
      assert.equal(got.length, 0, `${where}: ${ring.key} returned records after a discarding open`);
    }
    const ref2: RingRef = {
      ringId: ring.ringId,
      sync: ring.syncPoint,
      syncAlt: [],
      floor,
      sure: new Map(got.map((g) => [g.seq, g.bytes])),
      maybe: new Map(),
      history: ref.history,
      dropped: c.dropped,
      retained: c.retained,
      eraseFailed: false,
    };
    next.set(ring.key, ref2);
  }
  refs.clear();
  for (const [k, r] of next) refs.set(k, r);
}

/** The check after every step: each ring returns exactly its reference; counters reconcile. Returns drops seen. */
function checkAll(
  store: FlashRingStore,
  refs: Map<string, RingRef>,
  retain: boolean,
  where: string,
  out: ModelOutcome,
): number {
  let drops = 0;
  assert.equal(store.rings().length, refs.size, `${where}: rings`);
  for (const ring of store.rings()) {
    const ref = refs.get(ring.key);
    assert.ok(ref && ref.ringId === ring.ringId, `${where}: ${ring.key} reference`);
    const c = ring.counters();
    assert.equal(ring.syncPoint, ref.sync, `${where}: ${ring.key} sync point`);
    const floor = ring.nextSequence - 1 - c.pending;
    assert.ok(floor >= ref.floor, `${where}: ${ring.key} floor went back (${floor} < ${ref.floor})`);
    // Every record that went since the last check was counted where it went.
    const gone = floor - Math.max(ref.floor, ref.sync);
    const dropped = c.dropped - ref.dropped;
    if (gone > 0) {
      assert.equal(
        dropped,
        gone,
        `${where}: ${ring.key} dropped counter moved ${dropped}, ${gone} records went`,
      );
      drops += gone;
    } else {
      assert.equal(dropped, 0, `${where}: ${ring.key} dropped counter moved without a drop`);
    }
    ref.floor = floor;
    ref.dropped = c.dropped;
    assert.equal(
      ref.retained + c.appended,
      c.committed + c.dropped + c.pending,
      `${where}: ${ring.key} counts reconcile (retained + appended = committed + dropped + pending)`,
    );
    const got = returned(ring);
    const want = [...ref.sure.keys()].filter((s) => s > Math.max(floor, ref.sync)).sort((a, b) => a - b);
    let w = 0;
    for (const g of got) {
      const maybe = ref.maybe.get(g.seq);
      if (w < want.length && want[w] === g.seq) {
        assert.deepEqual(g.bytes, ref.sure.get(g.seq), `${where}: ${ring.key} record ${g.seq}`);
        w++;
      } else {
        assert.ok(maybe, `${where}: ${ring.key} returned ${g.seq}, expected ${want[w]}`);
        assert.deepEqual(g.bytes, maybe, `${where}: ${ring.key} record ${g.seq}`);
      }
      out.compared++;
    }
    assert.equal(
      w,
      want.length,
      `${where}: ${ring.key} missing record ${want[w]} (floor ${floor}, sync ${ref.sync})`,
    );
    // The census comes from RAM; when every pending record is readable it must equal a count of them.
    const census = ring.census();
    assert.equal(census.records, c.pending, `${where}: ${ring.key} census records`);
    assert.equal(census.lastSeq, ring.nextSequence - 1, `${where}: ${ring.key} census lastSeq`);
    if (got.length === c.pending) {
      let units = 0;
      for (const g of got) units += modelUnits(g.bytes, 0, g.bytes.length);
      assert.equal(census.units, units, `${where}: ${ring.key} census units`);
      out.censusChecked++;
    }
    for (const s of [...ref.sure.keys()]) if (s <= Math.max(floor, ref.sync)) ref.sure.delete(s);
    if (!retain && ref.retained !== 0) ref.retained = 0;
  }
  return drops;
}
