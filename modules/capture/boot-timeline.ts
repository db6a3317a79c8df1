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
 *
 * What is read back from the store is untrusted (bit rot, an older firmware,
 * another writer): every row is checked at load against the bounds below and a
 * row outside them is dropped, counted (`rejectedEntries`) and logged. So an
 * offset reaching the transcoder is finite and places any monotonic time a
 * block can hold (an 8-byte varint: under 2^56 µs) between 1970 and year 4400,
 * inside protobuf Timestamp's range (0001..9999) with seconds in 6 varint
 * bytes: never an endless varint loop, never a varint over 10 bytes. A
 * dropped row's blocks are placed by the estimate rule, like a boot that never
 * learned its offset.
 */
import type { KeyValueStore, Logger } from "../ports";
import { MIN_VALID_WALL_MS } from "./block-format";

export const BOOTS_KEY = "cs.boots";
export const BOOTS_KEPT = 12;
export const CHECKPOINT_MS = 60_000;

/** NVS values are at most 4000 bytes on ESP32: anything longer was not written by capsync. */
export const MAX_BOOTS_TEXT = 4000;
/** Boot ids are positive and below 2^31 (they wrap to 1 there). */
export const MAX_BOOT_ID = 0x7fffffff;
/** 2100-01-01T00:00:00Z: a wall clock later than this is a clock that is wrong, not one that is set. */
export const MAX_VALID_WALL_MS = 4_102_444_800_000;
/** Longest a boot's monotonic clock can run (100 years): bounds high-water marks and offsets. */
export const MAX_UPTIME_MS = 3_155_760_000_000;
/** An offset (wall − monotonic) learned from a valid wall clock lies in this window. */
export const MIN_BOOT_OFFSET_MS = MIN_VALID_WALL_MS - MAX_UPTIME_MS;
export const MAX_BOOT_OFFSET_MS = MAX_VALID_WALL_MS;

interface BootEntry {
  id: number;
  /** wall ms − monotonic ms of that boot; NaN when never learned. */
  offsetMs: number;
  /** Latest monotonic ms known to have been reached in that boot. */
  highWaterMs: number;
}

/** A wall-clock reading capture can trust: set (after 2020) and not absurd (before 2100). */
export function isValidWall(wallMs: number): boolean {
  return wallMs >= MIN_VALID_WALL_MS && wallMs < MAX_VALID_WALL_MS;
}

/** Why a stored row [id, offsetMs | null, highWaterMs] is out of bounds, or "". */
export function bootRowProblem(row: unknown): string {
  if (!Array.isArray(row) || row.length !== 3) return "not an [id, offset, high-water] row";
  const [id, offset, highWater] = row as unknown[];
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id >= MAX_BOOT_ID)
    return `boot id ${String(id).slice(0, 24)} out of range`;
  if (
    offset !== null &&
    (typeof offset !== "number" ||
      !Number.isFinite(offset) ||
      offset < MIN_BOOT_OFFSET_MS ||
      offset > MAX_BOOT_OFFSET_MS)
  )
    return `boot ${id}: offset ${String(offset).slice(0, 24)} out of range`;
  if (
    typeof highWater !== "number" ||
    !Number.isFinite(highWater) ||
    highWater < 0 ||
    highWater > MAX_UPTIME_MS
  )
    return `boot ${id}: high-water mark ${String(highWater).slice(0, 24)} out of range`;
  return "";
}

/** Deepest [ / { nesting in `text` outside strings (capsync's entry nests 3 deep). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export class BootTimeline {
  readonly bootId: number;
  /** Stored rows dropped at load because they were out of bounds (each logged). */
  readonly rejectedEntries: number;
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
    this.rejectedEntries = loaded.rejected;
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
   * boot never learned its offset, a stored row was dropped at load, or there
   * is no store to know.
   */
  needsScan(): boolean {
    // A dropped row's boot may have blocks in flash: the scan gives them one consistent high-water mark.
    if (!this.kv || this.rejectedEntries > 0) return true;
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

  private load(): { next: number; boots: BootEntry[]; rejected: number } {
    // Without a store, a random id still tells this boot's blocks from an earlier boot's.
    if (!this.kv) return { next: 1 + Math.floor(Math.random() * 0x3fffffff), boots: [], rejected: 0 };
    let text: unknown;
    try {
      text = this.kv.get(BOOTS_KEY);
    } catch (error) {
      return this.unreadable(`reading it failed (${(error as Error)?.message ?? error})`);
    }
    if (text === undefined) return { next: 1, boots: [], rejected: 0 };
    if (typeof text !== "string" || text.length > MAX_BOOTS_TEXT)
      return this.unreadable(`not a string of at most ${MAX_BOOTS_TEXT} characters`);
    // JSON.parse recurses per nesting level: refuse deep text before it can exhaust a small C stack.
    if (nestingDepth(text) > 3) return this.unreadable("nested deeper than its format");
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return this.unreadable("not JSON");
    }
    if (typeof data !== "object" || data === null || Array.isArray(data))
      return this.unreadable("not an object");
    const { n, b } = data as { n?: unknown; b?: unknown };
    const boots: BootEntry[] = [];
    let rejected = 0;
    let firstProblem = "";
    const reject = (problem: string) => {
      rejected++;
      if (firstProblem === "") firstProblem = problem;
    };
    let maxId = 0;
    if (b !== undefined && !Array.isArray(b)) reject("the boot list is not a list");
    else if (Array.isArray(b)) {
      const seen = new Set<number>();
      for (let i = 0; i < b.length; i++) {
        if (boots.length >= BOOTS_KEPT) {
          reject(`more than ${BOOTS_KEPT} boots`);
          continue;
        }
        const row = b[i] as unknown;
        const problem = bootRowProblem(row);
        if (problem !== "") {
          reject(problem);
          continue;
        }
        const [id, offset, highWater] = row as [number, number | null, number];
        if (seen.has(id)) {
          reject(`boot ${id} listed twice`);
          continue;
        }
        seen.add(id);
        if (id > maxId) maxId = id;
        boots.push({ id, offsetMs: offset === null ? Number.NaN : offset, highWaterMs: highWater });
      }
    }
    let next = 1;
    if (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_BOOT_ID) next = n;
    else reject(`next boot id ${String(n).slice(0, 24)} out of range`);
    // This boot's id must be new: never one a stored boot (and its blocks in flash) already has.
    if (next <= maxId) next = maxId + 1;
    if (rejected > 0) {
      this.log.warn(
        `capture: boot timeline in "${BOOTS_KEY}": ${rejected} stored value${rejected === 1 ? "" : "s"} out of bounds, dropped (${firstProblem})`,
      );
    }
    return { next: next >= MAX_BOOT_ID ? 1 : next, boots, rejected };
  }

  private unreadable(why: string): { next: number; boots: BootEntry[]; rejected: number } {
    this.log.warn(`capture: boot timeline in "${BOOTS_KEY}" is unreadable (${why}); starting a new one`);
    return { next: 1, boots: [], rejected: 1 };
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
