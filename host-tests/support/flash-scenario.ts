/*
 * Platform-free helpers for the ring store's tests (both lanes): a reusable
 * RAM batch, a record generator whose bytes are checkable, and the power-cut
 * scenario runner used by the exhaustive test and the soaks.
 *
 * The scenario is a seeded sequence of appends, reads+commits, erase-aheads
 * and clean reboots over two small rings (512-byte sectors, so a few hundred
 * flash operations cover several wraps). A case replays it with a power cut
 * torn into one chosen operation, reboots, reopens the store and checks
 * every invariant of the store's contract.
 */

import type { FlashPort, Logger } from "../../modules/ports";
import type { FlashRing } from "../../modules/storage/flash-ring";
import { NorImage, PowerCutError, type TearMode } from "../../modules/storage/nor-image";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";
import { assert } from "../harness/index";
import { Random } from "../harness/random";

/**
 * `nor` behind a driver that also maps the partition (FlashPort.map, as on ESP32): `map` is what the
 * map gives, `after` sees each program and erase that went through (to keep a stale copy, say).
 */
export function mappedNor(
  nor: NorImage,
  map: () => Uint8Array | undefined,
  after: { write?(offset: number, data: Uint8Array): void; erase?(index: number): void } = {},
): FlashPort {
  return {
    size: nor.size,
    sectorSize: nor.sectorSize,
    read: (offset, target) => nor.read(offset, target),
    write: (offset, data) => {
      nor.write(offset, data);
      after.write?.(offset, data);
    },
    eraseSector: (index) => {
      nor.eraseSector(index);
      after.erase?.(index);
    },
    map,
  };
}

/** A RAM batch like capture's: preallocated, refilled for every append. */
export class TestBatch {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  count = 0;
  private used = 0;
  constructor(maxBytes: number, maxRecords: number) {
    this.bytes = new Uint8Array(maxBytes);
    this.ends = new Uint32Array(maxRecords);
  }
  clear(): void {
    this.count = 0;
    this.used = 0;
  }
  add(record: Uint8Array): void {
    this.bytes.set(record, this.used);
    this.used += record.length;
    this.ends[this.count++] = this.used;
  }
}

/**
 * Pseudo-random bytes of a random length in [min, max]. Two draws from `rng`
 * per record, not one per byte: the XS lane interprets every call.
 */
export function randomRecord(rng: Random, min: number, max: number): Uint8Array {
  const out = new Uint8Array(min + rng.int(max - min + 1));
  let x = rng.u32() | 1;
  for (let i = 0; i < out.length; i++) {
    x = Math.imul(x, 0x2c9277b5) + 0xac564b05;
    out[i] = x >>> 24;
  }
  return out;
}

/** A logger that keeps lines so tests can assert a reason was logged. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
  has(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(l));
  }
}

export const SCENARIO_SECTOR = 512;
export const SCENARIO_SECTORS = 12;
export const SCENARIO_LAYOUT: RingLayoutEntry[] = [
  { key: "sensor/a/Readings", sectors: 4 },
  { key: "sensor/b/Readings", sectors: 3 },
];

/** What the test knows about one ring while the scenario runs. */
interface RingModel {
  /** Bytes of every record ever handed to append (completed or in flight), by sequence. */
  readonly bytes: Map<number, Uint8Array>;
  /** Last sync point whose commit returned. */
  acked: number;
  /** Value of a commit interrupted by the cut. */
  inflight: number | undefined;
  /** Last sequence number of the last append that returned. */
  lastCompleted: number;
  /** Oldest record the store still held after the last call that returned (older ones were dropped). */
  oldestKept: number;
  /** The interrupted call erased (or was erasing) one of this ring's sectors, so it may have dropped records. */
  erasedInFlight: boolean;
}

export interface CutCase {
  scenarioSeed: number;
  /** Mutating flash operation to tear (counted from 0, the initial format included); -1 for none. */
  cutAt: number;
  tear: TearMode;
  /** Reboot semantics of the reopen after the cut. */
  retainAfter: boolean;
  tearSeed?: number;
  /** Scenario length in steps (default 50: 65–100 flash operations, each ring wrapping several times). */
  steps?: number;
}

export interface CutOutcome {
  /** The cut happened (false when cutAt was past the scenario's last operation). */
  cut: boolean;
  /** Mutating operations the scenario performed (when not cut: its total). */
  operations: number;
  /** Records read back after the reboot across both rings (to show the check had substance). */
  verifiedRecords: number;
  /** Sector erases before the cut (more than the ring sectors means the rings wrapped). */
  erases: number;
}

/** Runs one case; throws an AssertionError naming the case when an invariant fails. */
export function runPowerCutCase(c: CutCase): CutOutcome {
  const flash = new NorImage({ size: SCENARIO_SECTORS * SCENARIO_SECTOR, sectorSize: SCENARIO_SECTOR });
  if (c.cutAt >= 0)
    flash.armPowerCut({ atOperation: c.cutAt, tear: c.tear, seed: c.tearSeed ?? c.cutAt + 1 });
  const models: RingModel[] = SCENARIO_LAYOUT.map(() => ({
    bytes: new Map(),
    acked: 0,
    inflight: undefined,
    lastCompleted: 0,
    oldestKept: 1,
    erasedInFlight: false,
  }));
  const rng = new Random(c.scenarioSeed);
  const batch = new TestBatch(4096, 64);
  const label = `scenario ${c.scenarioSeed}, cut at op ${c.cutAt} (${c.tear}), reopen ${c.retainAfter ? "retain" : "discard"}`;
  let cut = false;
  let extents: { first: number; count: number }[] = [];
  let erasesBeforeStep = flash.sectorErases.slice();
  try {
    let store: FlashRingStore = openRingStore({ flash, layout: SCENARIO_LAYOUT, retainUnsynced: true });
    extents = store.rings().map((r) => ({ first: r.firstSector, count: r.sectorCount }));
    for (let step = 0; step < (c.steps ?? 50); step++) {
      erasesBeforeStep = flash.sectorErases.slice();
      const which = rng.int(SCENARIO_LAYOUT.length);
      const ring = store.ring(SCENARIO_LAYOUT[which]!.key)!;
      const model = models[which]!;
      const action = rng.float();
      if (action < 0.55) {
        batch.clear();
        const n = 1 + rng.int(24);
        const first = ring.nextSequence;
        for (let i = 0; i < n; i++) {
          // One record in eight is long enough for a 2-byte length prefix.
          const record = rng.int(8) === 0 ? randomRecord(rng, 128, 300) : randomRecord(rng, 1, 60);
          model.bytes.set(first + i, record);
          batch.add(record);
        }
        ring.append(batch);
        model.lastCompleted = first + n - 1;
      } else if (action < 0.85) {
        const chunk = ring.read(1 + rng.int(400));
        if (chunk) {
          model.inflight = chunk.lastSeq;
          ring.commit(chunk.lastSeq);
          model.acked = chunk.lastSeq;
          model.inflight = undefined;
        }
      } else if (action < 0.97) {
        ring.eraseAhead(rng.int(2 * SCENARIO_SECTOR));
      } else {
        // A clean reboot mid-scenario, under either rule. Discarding at open
        // persists a new sync point per ring with pending records: to the
        // model that is a commit in flight until the open returns.
        const retain = rng.float() < 0.5;
        if (!retain) {
          SCENARIO_LAYOUT.forEach((entry, r) => {
            const old = store.ring(entry.key)!;
            if (old.counters().pending > 0) models[r]!.inflight = old.nextSequence - 1;
          });
        }
        store.close();
        store = openRingStore({ flash, layout: SCENARIO_LAYOUT, retainUnsynced: retain });
        for (const m of models) {
          if (m.inflight !== undefined) m.acked = m.inflight;
          m.inflight = undefined;
        }
      }
      SCENARIO_LAYOUT.forEach((entry, r) => {
        const kept = store.ring(entry.key)!;
        models[r]!.oldestKept = kept.nextSequence - kept.counters().pending;
      });
    }
    store.close();
  } catch (error) {
    if (!(error instanceof PowerCutError) && !flash.poweredOff) throw error;
    cut = true;
    const torn = /erase of sector (\d+)/.exec((error as Error).message);
    extents.forEach((e, r) => {
      for (let s = e.first; s < e.first + e.count; s++) {
        if (flash.sectorErases[s] !== erasesBeforeStep[s] || (torn && Number(torn[1]) === s)) {
          models[r]!.erasedInFlight = true;
        }
      }
    });
  }
  const operations = flash.operations;
  const erases = flash.erases;
  flash.reboot();
  const verifiedRecords = verifyAfterReboot(flash, models, c.retainAfter, label);
  return { cut, operations, verifiedRecords, erases };
}

function verifyAfterReboot(flash: NorImage, models: RingModel[], retain: boolean, label: string): number {
  const log = new RecordingLogger();
  let store = openRingStore({ flash, log, layout: SCENARIO_LAYOUT, retainUnsynced: retain });
  let verified = 0;
  const batch = new TestBatch(4096, 64);
  for (let r = 0; r < SCENARIO_LAYOUT.length; r++) {
    const key = SCENARIO_LAYOUT[r]!.key;
    const ring = store.ring(key)!;
    const m = models[r]!;
    const where = `${label}, ring ${key}`;
    assert.ok(ring, `${where}: ring missing after reopen`);
    if (retain) {
      const okSync =
        ring.syncPoint === m.acked || (m.inflight !== undefined && ring.syncPoint === m.inflight);
      assert.ok(
        okSync,
        `${where}: sync point ${ring.syncPoint} is neither old ${m.acked} nor new ${m.inflight}`,
      );
      const chunk = ring.read(Number.POSITIVE_INFINITY);
      let last = ring.syncPoint;
      const returned = new Set<number>();
      if (chunk) {
        // Consecutive unless damage left a gap; only then walk record by record.
        const span = chunk.lastSeq - chunk.firstSeq + 1;
        const seqs =
          span === chunk.records.length
            ? chunk.records.map((_, i) => chunk.firstSeq + i)
            : sequencesOf(ring, chunk.records.length);
        assert.equal(seqs.length, chunk.records.length, `${where}: sequence walk`);
        for (let i = 0; i < chunk.records.length; i++) {
          const seq = seqs[i]!;
          assert.ok(seq > m.acked, `${where}: acknowledged record ${seq} returned again (sync ${m.acked})`);
          assert.ok(seq > last, `${where}: record ${seq} out of order after ${last}`);
          last = seq;
          returned.add(seq);
          const expected = m.bytes.get(seq);
          assert.ok(expected, `${where}: record ${seq} was never appended`);
          assert.deepEqual(chunk.records[i], expected, `${where}: record ${seq} bytes`);
          verified++;
        }
        assert.equal(chunk.lastSeq, last, `${where}: lastSeq`);
      }
      // Nothing the store still held may vanish, unless the interrupted call
      // was erasing one of the ring's sectors (the store chose to drop it).
      if (m.lastCompleted > ring.syncPoint && m.lastCompleted >= m.oldestKept && !m.erasedInFlight) {
        for (let seq = Math.max(m.oldestKept, ring.syncPoint + 1); seq <= m.lastCompleted; seq++) {
          assert.ok(
            returned.has(seq),
            `${where}: record ${seq} of a completed append lost (kept from ${m.oldestKept})`,
          );
        }
      }
    } else {
      assert.ok(
        ring.syncPoint >= m.acked,
        `${where}: sync point ${ring.syncPoint} went below acknowledged ${m.acked}`,
      );
      assert.equal(
        ring.read(Number.POSITIVE_INFINITY),
        null,
        `${where}: discard mode returned records after reboot`,
      );
      assert.equal(ring.counters().pending, 0, `${where}: pending after discard`);
    }
    // Still writable, and what is written now reads back and commits durably.
    batch.clear();
    const rng = new Random(r + 7);
    const fresh: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      const record = randomRecord(rng, 1, 60);
      fresh.push(record);
      batch.add(record);
    }
    const first = ring.nextSequence;
    ring.append(batch);
    const after = ring.read(Number.POSITIVE_INFINITY, first - 1);
    assert.ok(after, `${where}: fresh records not readable`);
    assert.equal(after.firstSeq, first, `${where}: fresh firstSeq`);
    assert.equal(after.records.length, 5, `${where}: fresh record count`);
    for (let i = 0; i < 5; i++) assert.deepEqual(after.records[i], fresh[i], `${where}: fresh record ${i}`);
    ring.commit(after.lastSeq);
  }
  store.close();
  store = openRingStore({ flash, layout: SCENARIO_LAYOUT, retainUnsynced: true });
  for (const ring of store.rings()) {
    assert.equal(
      ring.read(Number.POSITIVE_INFINITY),
      null,
      `${label}, ring ${ring.key}: records after the final commit`,
    );
    assert.equal(ring.syncPoint, ring.nextSequence - 1, `${label}, ring ${ring.key}: final sync point`);
  }
  return verified;
}

/**
 * The sequence numbers of the records a full read returns, recovered by
 * reading one record at a time (each read's firstSeq is exact even across gaps).
 */
function sequencesOf(ring: FlashRing, count: number): number[] {
  const seqs: number[] = [];
  let after: number | undefined;
  for (let i = 0; i < count; i++) {
    const one = ring.read(0, after);
    if (!one) break;
    seqs.push(one.firstSeq);
    after = one.firstSeq;
  }
  return seqs;
}

/** Operations the uncut scenario performs (the exhaustive test cuts at each). */
export function scenarioOperations(scenarioSeed: number, steps?: number): CutOutcome {
  return runPowerCutCase({ scenarioSeed, cutAt: -1, tear: "none", retainAfter: true, steps });
}
