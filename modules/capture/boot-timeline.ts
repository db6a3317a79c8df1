/*
 * Which boot a reading came from, and how that boot's monotonic clock maps to
 * wall-clock time.
 *
 * Until the wall clock is valid (SNTP not yet answered, no network), readings
 * are stored with monotonic µs and this boot's id. When the wall clock becomes
 * valid, the boot's offset (wall − monotonic) is learned and persisted, and
 * every reading of this boot is placed exactly at transcode time.
 *
 * A boot that never learned its offset (power cut while offline) can never be
 * placed exactly. Rule (documented in docs/capture.md): such a boot is placed
 * as if it ended the instant the next boot with a known offset started, its
 * end being its monotonic high-water mark: the latest of the persisted
 * checkpoint and the last reading of its blocks found in flash at start-up
 * (Capture scans the rings once when it is created). Times are then upper bounds, order within the
 * boot is kept, and nothing is ever stamped 1970.
 *
 * Without a KeyValueStore the boot id is random, so blocks of an earlier boot
 * (retained in flash) are still told apart and placed by the same rule, with
 * no high-water mark: they end where this boot began.
 *
 * Persistence: one KeyValueStore entry ("cs.boots", ≤ 4000 bytes, JSON): the
 * next boot id and the last BOOTS_KEPT boots' [id, offsetMs (to the µs) |
 * null, highWaterMs]. Written at boot, when the offset is
 * learned, and every CHECKPOINT_MS while the clock is still invalid (a few
 * NVS writes per offline hour, none once the clock is valid).
 */
import type { KeyValueStore, Logger } from "../ports";
import { MIN_VALID_WALL_MS } from "./block-format";

export const BOOTS_KEY = "cs.boots";
export const BOOTS_KEPT = 12;
export const CHECKPOINT_MS = 60_000;

interface BootEntry {
  id: number;
  /** wall ms − monotonic ms of that boot; NaN when never learned. */
  offsetMs: number;
  /** Latest monotonic ms known to have been reached in that boot. */
  highWaterMs: number;
}

export function isValidWall(wallMs: number): boolean {
  return wallMs >= MIN_VALID_WALL_MS;
}

export class BootTimeline {
  readonly bootId: number;
  private readonly boots: BootEntry[];
  private readonly current: BootEntry;
  private nextCheckpointMs = CHECKPOINT_MS;

  /** The id the next boot gets. */
  private readonly nextId: number;

  /**
   * @param continueBootId battery mode (modules/power): a wake from deep sleep
   *   continues this boot (its offset, once learned, places every reading of the run).
   */
  constructor(
    private readonly kv: KeyValueStore | undefined,
    private readonly log: Logger,
    continueBootId?: number,
  ) {
    const loaded = this.load();
    if (continueBootId !== undefined && continueBootId > 0) {
      this.bootId = continueBootId;
      this.current = loaded.boots.find((b) => b.id === continueBootId) ?? {
        id: continueBootId,
        offsetMs: Number.NaN,
        highWaterMs: 0,
      };
      this.boots = loaded.boots.filter((b) => b.id !== continueBootId).slice(-(BOOTS_KEPT - 1));
      this.nextId = Math.max(loaded.next, continueBootId + 1);
    } else {
      this.bootId = loaded.next;
      this.boots = loaded.boots.filter((b) => b.id < this.bootId).slice(-(BOOTS_KEPT - 1));
      this.current = { id: this.bootId, offsetMs: Number.NaN, highWaterMs: 0 };
      this.nextId = this.bootId + 1;
    }
    this.boots.push(this.current);
    this.save();
  }

  /**
   * Whether blocks of earlier boots could need the start-up scan: some earlier
   * boot never learned its offset, or there is no store to know.
   */
  needsScan(): boolean {
    if (!this.kv) return true;
    for (const b of this.boots) if (b !== this.current && Number.isNaN(b.offsetMs)) return true;
    return false;
  }

  /** This boot's wall − monotonic offset in ms, NaN until the wall clock was seen valid. */
  get offsetMs(): number {
    return this.current.offsetMs;
  }

  /**
   * Called by the sampler on every tick with the current clock readings.
   * Returns true exactly once: when the offset of this boot is first learned.
   */
  observe(monotonicMs: number, wallMs: number): boolean {
    if (!Number.isNaN(this.current.offsetMs)) return false;
    if (isValidWall(wallMs)) {
      // To the µs: a whole-ms offset moved this boot's monotonic readings up to 0.5 ms against its
      // wall-clock ones, which at 1 kHz can put a reading before the one it followed.
      this.current.offsetMs = Math.round((wallMs - monotonicMs) * 1000) / 1000;
      this.current.highWaterMs = monotonicMs;
      this.save();
      return true;
    }
    if (monotonicMs >= this.nextCheckpointMs) {
      this.current.highWaterMs = monotonicMs;
      this.nextCheckpointMs = monotonicMs + CHECKPOINT_MS;
      this.save();
    }
    return false;
  }

  /**
   * Learn from a block found in flash at start-up: boot `bootId` reached at
   * least `lastMonotonicMs`. Makes the placement of a boot that never learned
   * its offset consistent across all its blocks. Call `save()` after a scan.
   */
  noteBlock(bootId: number, lastMonotonicMs: number): void {
    if (bootId === this.bootId) return;
    let entry = this.boots.find((b) => b.id === bootId);
    if (!entry) {
      if (this.boots.length >= BOOTS_KEPT) return;
      entry = { id: bootId, offsetMs: Number.NaN, highWaterMs: 0 };
      this.boots.splice(this.boots.length - 1, 0, entry);
    }
    if (lastMonotonicMs > entry.highWaterMs) entry.highWaterMs = lastMonotonicMs;
  }

  /** Persist how far this boot got (orderly shutdown). */
  checkpoint(monotonicMs: number): void {
    if (monotonicMs > this.current.highWaterMs) this.current.highWaterMs = monotonicMs;
    this.save();
  }

  /**
   * Offset in µs to add to monotonic µs of `bootId` to get wall µs, or NaN
   * when that cannot be known yet (this boot's clock is not valid yet).
   * `lastMonotonicUs` is the last reading of the block being placed (for the
   * estimate rule of boots that never learned their offset).
   */
  offsetUs(bootId: number, lastMonotonicUs: number): number {
    let entry: BootEntry | undefined;
    let later: BootEntry | undefined;
    for (const b of this.boots) {
      if (b.id === bootId) entry = b;
      else if (b.id > bootId && !Number.isNaN(b.offsetMs) && (!later || b.id < later.id)) later = b;
    }
    if (entry && !Number.isNaN(entry.offsetMs)) return Math.round(entry.offsetMs * 1000);
    if (bootId === this.bootId) return Number.NaN;
    // No later boot known (random ids without a key/value store, or evicted entries): every other boot
    // came before this one.
    if (!later && !Number.isNaN(this.current.offsetMs)) later = this.current;
    if (!later) return Number.NaN;
    // Estimate: this boot ended when the next known boot started (wall ms at its monotonic 0). Its end
    // is its high-water mark (raised at start-up from the blocks in flash, so every block of the boot
    // gets the same offset); a block beyond it (none, after a scan) pulls the end later.
    // It ends 1 µs before that instant: the next boot may read at its monotonic 0, and the same collector
    // must not get one time_requested twice.
    const endUs = Math.max(entry ? entry.highWaterMs * 1000 : 0, lastMonotonicUs);
    return Math.round(later.offsetMs * 1000) - endUs - 1;
  }

  private load(): { next: number; boots: BootEntry[] } {
    // Without a store, a random id still tells this boot's blocks from an earlier boot's.
    if (!this.kv) return { next: 1 + Math.floor(Math.random() * 0x3fffffff), boots: [] };
    const text = this.kv.get(BOOTS_KEY);
    if (text === undefined) return { next: 1, boots: [] };
    try {
      const data = JSON.parse(text) as { n?: unknown; b?: unknown };
      const next = typeof data.n === "number" && Number.isSafeInteger(data.n) && data.n > 0 ? data.n : 1;
      const boots: BootEntry[] = [];
      if (Array.isArray(data.b)) {
        for (const row of data.b) {
          if (!Array.isArray(row) || typeof row[0] !== "number") continue;
          boots.push({
            id: row[0],
            offsetMs: typeof row[1] === "number" ? row[1] : Number.NaN,
            highWaterMs: typeof row[2] === "number" ? row[2] : 0,
          });
        }
      }
      return { next: next >= 0x7fffffff ? 1 : next, boots };
    } catch {
      this.log.warn(`capture: boot timeline in "${BOOTS_KEY}" is unreadable; starting a new one`);
      return { next: 1, boots: [] };
    }
  }

  save(): void {
    if (!this.kv) return;
    const rows = this.boots.map((b) => [
      b.id,
      !Number.isNaN(b.offsetMs) ? b.offsetMs : null,
      Math.floor(b.highWaterMs),
    ]);
    try {
      this.kv.set(BOOTS_KEY, JSON.stringify({ n: this.nextId, b: rows }));
    } catch (error) {
      this.log.warn(`capture: could not persist the boot timeline: ${(error as Error)?.message ?? error}`);
    }
  }
}
