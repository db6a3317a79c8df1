/*
 * The ring store: one flash partition holding a ring per collector.
 *
 *   sector 0, 1   layout record, A/B (layout-record.ts)
 *   sector 2..    rings, each a contiguous run of whole sectors (flash-ring.ts)
 *
 * Layout rule (FORMAT.md, "Changing the layout"): a ring whose key, size and
 * place are unchanged keeps its records and sync point. A new ring, or one
 * whose size changed, gets a fresh ring id (its old sectors become foreign to
 * it and are erased lazily); a removed or resized ring's unsynced records are
 * counted as discarded and logged. Unchanged rings stay where they are; the
 * others go first-fit into the free sectors, and only if that fails is
 * everything packed again in layout order (rings that move are reformatted).
 * Rings that still do not fit are left out with a logged error.
 */
import { type FlashPort, type Logger, silentLogger } from "../ports";
import { FlashRing, type RecordUnits, type RingPlacement } from "./flash-ring";
import {
  decodeLayoutRecord,
  encodeLayoutRecord,
  LAYOUT_FIXED_BYTES,
  LAYOUT_SLOTS,
  type LayoutRecord,
  layoutRecordBytes,
  MAX_KEY_BYTES,
  utf8Encode,
} from "./layout-record";
import { decodeSectorHeader, SECTOR_HEADER_BYTES, type SectorHeader } from "./ring-format";
import type { RingLayoutEntry, RingStore, StoreGeometry } from "./types";

export interface RingStoreOptions {
  flash: FlashPort;
  /** Format decisions, discards, drops and damage are reported here. */
  log?: Logger;
  /**
   * false (default): records after a ring's sync point are discarded at open,
   * as viam-micro-server does. true: they are kept and read again after the reboot.
   */
  retainUnsynced?: boolean;
  /** Applied right after open (same as calling `configure`). Omitted: the stored layout is used as is. */
  layout?: RingLayoutEntry[];
  /**
   * What a record counts for in `ring.census()` (capture: the readings in a
   * block). The store keeps running totals of it in every sector it opens, so
   * a census costs no flash read. Omitted: 1 per record.
   */
  recordUnits?: RecordUnits;
}

/** What opening found. */
export interface OpenReport {
  /** The partition held no usable layout record and was (lazily) formatted. */
  formatted: boolean;
  /** Why it was formatted: "blank", or what was wrong with the contents. */
  reason: string;
  /** Generation of the layout record in use (0: none written yet). */
  layoutGeneration: number;
  /** Flash bytes read by the open (recovery, the reboot rule and the initial `layout`). */
  bytesRead: number;
}

const MIN_SECTOR = 256;
const MAX_SECTOR = 65536;

export class FlashRingStore implements RingStore {
  readonly flash: FlashPort;
  readonly openReport: OpenReport;
  private readonly log: Logger;
  private readonly sectorSize: number;
  private readonly sectorCount: number;
  private readonly scratch: Uint8Array;
  /** The partition mapped into memory, for reads without a copy (FlashPort.map); undefined: copy. */
  private readonly mapped: Uint8Array | undefined;
  private readonly retainUnsynced: boolean;
  private record: LayoutRecord;
  private slot: number;
  private readonly byKey = new Map<string, FlashRing>();
  private closed = false;
  private readonly recordUnits: RecordUnits | undefined;
  /** What the store and its rings use: the caller's port, counting the bytes read. */
  private readonly port: FlashPort;
  /** Flash bytes this store has read since it was opened. */
  bytesRead = 0;

  constructor(options: RingStoreOptions) {
    const flash = options.flash;
    this.flash = flash;
    this.recordUnits = options.recordUnits;
    this.port = {
      size: flash.size,
      sectorSize: flash.sectorSize,
      read: (offset, target) => {
        this.bytesRead += target.length;
        flash.read(offset, target);
      },
      write: (offset, data) => flash.write(offset, data),
      eraseSector: (index) => flash.eraseSector(index),
    };
    this.log = options.log ?? silentLogger;
    this.retainUnsynced = options.retainUnsynced === true;
    this.sectorSize = flash.sectorSize;
    if (
      !(Number.isInteger(this.sectorSize) && this.sectorSize >= MIN_SECTOR && this.sectorSize <= MAX_SECTOR)
    ) {
      throw new RangeError(`storage: sector size ${this.sectorSize} outside ${MIN_SECTOR}..${MAX_SECTOR}`);
    }
    this.sectorCount = Math.floor(flash.size / this.sectorSize);
    if (this.sectorCount < LAYOUT_SLOTS + 2 || this.sectorCount > 0xffff) {
      throw new RangeError(
        `storage: a partition of ${this.sectorCount} sectors cannot hold a layout and a ring`,
      );
    }
    this.scratch = new Uint8Array(this.sectorSize);
    this.mapped = mapPartition(flash, this.log);

    const found = this.readLayout();
    // Ring ids must never repeat one found in an intact sector header, or
    // those sectors could pass as a new ring's (another collector's records
    // with valid CRCs). The layout record's "next ring id" is not enough: the
    // newest record may be unreadable and an older one in use. So every ring
    // sector's header is read at open (28 bytes each) and ids go above them.
    const highest = this.highestRingIdOnFlash();
    if (found.record.nextRingId <= highest) found.record.nextRingId = highest + 1;
    this.record = found.record;
    this.slot = found.slot;
    this.openReport = {
      formatted: found.reason !== "",
      reason: found.reason,
      layoutGeneration: this.record.generation,
      bytesRead: 0,
    };
    if (found.reason === "blank") this.log.info("storage: blank partition, formatting");
    else if (found.reason !== "") this.log.warn(`storage: formatting partition: ${found.reason}`);

    for (const stored of this.record.rings) {
      const ring = new FlashRing(this.context(), stored);
      ring.recover(this.retainUnsynced);
      this.byKey.set(stored.key, ring);
    }
    if (options.layout) this.configure(options.layout);
    this.openReport.bytesRead = this.bytesRead;
  }

  configure(layout: RingLayoutEntry[]): void {
    this.checkOpen();
    const wanted = this.normalize(layout);
    const placed = this.fitRecord(this.place(wanted));
    const changed =
      placed.length !== this.record.rings.length ||
      placed.some((p, i) => {
        const old = this.record.rings[i]!;
        return (
          old.key !== p.key ||
          old.ringId !== p.ringId ||
          old.firstSector !== p.firstSector ||
          old.sectors !== p.sectors
        );
      });
    if (!changed) return;

    // The record goes out before any ring is retired or any new ring writes:
    // if writing it fails, every ring of the old layout is still there, with
    // its records, and the ids handed out above are never used again.
    try {
      this.writeLayout(placed);
    } catch (error) {
      let burnt = this.record.nextRingId;
      for (const p of placed) if (p.ringId >= burnt) burnt = p.ringId + 1;
      this.record = { ...this.record, nextRingId: burnt };
      this.log.error(
        `storage: writing the new ring layout failed (${(error as Error)?.message ?? error}); the previous layout stays in use`,
      );
      throw error;
    }
    const keptIds = new Set(placed.map((p) => p.ringId));
    const carried = new Map<string, number>();
    for (const [key, ring] of this.byKey) {
      if (keptIds.has(ring.ringId)) continue;
      const lost = ring.retire();
      this.byKey.delete(key);
      if (lost > 0) {
        carried.set(key, lost);
        this.log.warn(`storage: ring "${key}" changed or removed: ${lost} unsynced records discarded`);
      } else {
        this.log.info(`storage: ring "${key}" changed or removed`);
      }
    }
    const next = new Map<string, FlashRing>();
    for (const p of placed) {
      let ring = this.byKey.get(p.key);
      // Stryker disable next-line ConditionalExpression: a ring whose id is not kept was retired and removed from byKey above, so `!ring` already holds for it
      if (!ring || ring.ringId !== p.ringId) {
        ring = new FlashRing(this.context(), p);
        const lost = carried.get(p.key);
        if (lost) ring.inheritDiscarded(lost);
      }
      next.set(p.key, ring);
    }
    this.byKey.clear();
    for (const [k, r] of next) this.byKey.set(k, r);
  }

  ring(key: string): FlashRing | undefined {
    return this.closed ? undefined : this.byKey.get(key);
  }

  rings(): FlashRing[] {
    return this.closed ? [] : [...this.byKey.values()];
  }

  close(): void {
    // Stryker disable next-line ConditionalExpression: closing again closes each ring again, which only sets its closed flag again
    if (this.closed) return;
    this.closed = true;
    for (const ring of this.byKey.values()) ring.close();
  }

  geometry(): StoreGeometry {
    return {
      sectorSize: this.sectorSize,
      ringSectors: this.sectorCount - LAYOUT_SLOTS,
      rings: this.record.rings.map((r) => ({ key: r.key, sectors: r.sectors })),
    };
  }

  /** The layout as stored (for diagnostics and tests). */
  storedLayout(): readonly RingPlacement[] {
    return this.record.rings;
  }

  private context() {
    return {
      flash: this.port,
      log: this.log,
      sectorSize: this.sectorSize,
      scratch: this.scratch,
      mapped: this.mapped,
      ...(this.recordUnits ? { recordUnits: this.recordUnits } : {}),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("storage: the ring store is closed");
  }

  private normalize(layout: RingLayoutEntry[]): RingLayoutEntry[] {
    const out: RingLayoutEntry[] = [];
    const seen = new Set<string>();
    if (!Array.isArray(layout)) {
      this.log.error("storage: ring layout is not a list; keeping no rings");
      return out;
    }
    for (const entry of layout) {
      const key = entry?.key;
      if (typeof key !== "string" || key.length === 0 || utf8Encode(key).length > MAX_KEY_BYTES) {
        this.log.error(
          `storage: ring key ${JSON.stringify(key)} must be a string of 1..${MAX_KEY_BYTES} bytes; skipped`,
        );
        continue;
      }
      if (seen.has(key)) {
        this.log.error(`storage: ring "${key}" appears twice in the layout; the second is skipped`);
        continue;
      }
      let sectors = entry.sectors;
      // Number.isFinite is false for anything but a finite number (no coercion): no typeof test needed.
      if (!Number.isFinite(sectors) || sectors < 2) {
        this.log.warn(`storage: ring "${key}" asks for ${String(sectors)} sectors; using 2`);
        sectors = 2;
      }
      seen.add(key);
      out.push({ key, sectors: Math.ceil(sectors) });
    }
    return out;
  }

  /**
   * Decides where each wanted ring lives. A ring whose key and size are
   * unchanged never moves (it keeps its records, sync point and Ring
   * object); new and resized rings go first-fit, in layout order, into the
   * sectors left free. A ring that does not fit is left out with a logged
   * error (never at the cost of another ring's unsynced records).
   */
  private place(wanted: RingLayoutEntry[]): RingPlacement[] {
    const first = LAYOUT_SLOTS;
    const old = new Map(this.record.rings.map((r) => [r.key, r]));
    const used = new Uint8Array(this.sectorCount);
    used.fill(1, 0, first);
    const placed: (RingPlacement | undefined)[] = wanted.map((w) => {
      const o = old.get(w.key);
      if (o && o.sectors === w.sectors) {
        used.fill(1, o.firstSector, o.firstSector + o.sectors);
        return o;
      }
      return undefined;
    });
    for (let i = 0; i < wanted.length; i++) {
      if (placed[i]) continue;
      const w = wanted[i]!;
      const at = firstFit(used, w.sectors, first);
      // Stryker disable next-line EqualityOperator: firstFit searches from sector 2 (after the layout slots): it never returns 0
      if (at < 0) continue;
      used.fill(1, at, at + w.sectors);
      placed[i] = { key: w.key, ringId: 0, firstSector: at, sectors: w.sectors };
    }
    const out: RingPlacement[] = [];
    let nextId = this.record.nextRingId;
    placed.forEach((p, i) => {
      const w = wanted[i]!;
      if (!p) {
        this.log.error(
          `storage: ring "${w.key}" (${w.sectors} sectors) does not fit in the free sectors of the partition (${this.sectorCount - first} ring sectors; rings that keep their data never move); not stored`,
        );
        return;
      }
      out.push(p.ringId === 0 ? { ...p, ringId: nextId++ } : p);
    });
    return out;
  }

  /** Leaves out trailing rings whose keys would make the layout record overflow its sector. */
  private fitRecord(rings: RingPlacement[]): RingPlacement[] {
    while (layoutRecordBytes(rings) > this.sectorSize && rings.length > 0) {
      const dropped = rings.pop()!;
      this.log.error(
        `storage: ring "${dropped.key}" left out: the layout record would not fit in one sector`,
      );
    }
    return rings;
  }

  private writeLayout(rings: RingPlacement[]): void {
    let nextRingId = this.record.nextRingId;
    for (const r of rings) if (r.ringId >= nextRingId) nextRingId = r.ringId + 1;
    const record: LayoutRecord = {
      generation: this.record.generation + 1,
      sectorSize: this.sectorSize,
      sectorCount: this.sectorCount,
      nextRingId,
      rings: rings.map((r) => ({
        key: r.key,
        ringId: r.ringId,
        firstSector: r.firstSector,
        sectors: r.sectors,
      })),
    };
    const slot = this.slot < 0 ? 0 : 1 - this.slot;
    this.port.eraseSector(slot);
    const bytes = encodeLayoutRecord(record);
    try {
      this.port.write(slot * this.sectorSize, bytes);
    } catch (error) {
      // A record that reached flash whole would win at the next open: then
      // it is in use now too. A damaged one never passes its CRC.
      const back = new Uint8Array(bytes.length);
      this.port.read(slot * this.sectorSize, back);
      // Stryker disable next-line EqualityOperator: `i <= bytes.length` compares back[length] and bytes[length], both undefined
      for (let i = 0; i < bytes.length; i++) if (back[i] !== bytes[i]) throw error;
      this.log.warn(
        `storage: layout program reported a failure (${(error as Error)?.message ?? error}) but reads back intact`,
      );
    }
    this.record = record;
    this.slot = slot;
  }

  private readLayout(): { record: LayoutRecord; slot: number; reason: string } {
    const reasons: string[] = [];
    let best: LayoutRecord | undefined;
    // Stryker disable next-line UnaryOperator: bestSlot is read only once `best` is set, which sets it too
    let bestSlot = -1;
    let blank = 0;
    for (let slot = 0; slot < LAYOUT_SLOTS; slot++) {
      // The record's fixed part first, then only as many bytes as it says it has.
      const fixed = this.scratch.subarray(0, LAYOUT_FIXED_BYTES);
      this.port.read(slot * this.sectorSize, fixed);
      const length = fixed[6]! | (fixed[7]! << 8);
      let view = fixed;
      if (length > LAYOUT_FIXED_BYTES && length <= this.sectorSize) {
        view = this.scratch.subarray(0, length);
        this.port.read(slot * this.sectorSize + LAYOUT_FIXED_BYTES, view.subarray(LAYOUT_FIXED_BYTES));
      }
      const d = decodeLayoutRecord(view);
      if (!d.ok) {
        if (d.blank) blank++;
        else reasons.push(`slot ${slot}: ${d.why}`);
        continue;
      }
      const r = d.record;
      if (r.sectorSize !== this.sectorSize || r.sectorCount !== this.sectorCount) {
        reasons.push(
          `slot ${slot}: written for ${r.sectorCount} sectors of ${r.sectorSize} bytes, this partition has ${this.sectorCount} of ${this.sectorSize}`,
        );
        continue;
      }
      const bad = this.checkRings(r);
      if (bad) {
        reasons.push(`slot ${slot}: ${bad}`);
        continue;
      }
      if (!best || r.generation > best.generation) {
        best = r;
        bestSlot = slot;
      }
    }
    if (best) {
      // The other slot being damaged is the normal trace of a cut while a
      // layout was being written; worth a line, not a format.
      if (reasons.length > 0)
        this.log.warn(`storage: using layout slot ${bestSlot}; ignoring ${reasons.join("; ")}`);
      return { record: best, slot: bestSlot, reason: "" };
    }
    const reason = blank === LAYOUT_SLOTS ? "blank" : reasons.join("; ");
    return {
      record: {
        generation: 0,
        sectorSize: this.sectorSize,
        sectorCount: this.sectorCount,
        nextRingId: 1,
        rings: [],
      },
      // Stryker disable next-line UnaryOperator: a formatted store's first layout goes to slot 0 either way (1 - 1 = 0)
      slot: -1,
      reason,
    };
  }

  /** A record with a valid CRC can still describe impossible rings (a bug elsewhere, or a foreign writer). */
  private checkRings(r: LayoutRecord): string {
    const used = new Uint8Array(this.sectorCount);
    const keys = new Set<string>();
    for (const ring of r.rings) {
      if (
        ring.sectors < 2 ||
        ring.firstSector < LAYOUT_SLOTS ||
        ring.firstSector + ring.sectors > this.sectorCount
      ) {
        return `ring "${ring.key}" has impossible extent ${ring.firstSector}+${ring.sectors}`;
      }
      if (keys.has(ring.key)) return `ring "${ring.key}" appears twice`;
      keys.add(ring.key);
      for (let s = ring.firstSector; s < ring.firstSector + ring.sectors; s++) {
        if (used[s]) return `rings overlap at sector ${s}`;
        used[s] = 1;
      }
      if (ring.ringId === 0 || ring.ringId >= r.nextRingId)
        return `ring "${ring.key}" has id ${ring.ringId} ≥ next id`;
    }
    return "";
  }

  private highestRingIdOnFlash(): number {
    // Stryker disable next-line ObjectLiteral: h.ringId is read only after decodeSectorHeader accepted the header, which sets every field
    const h: SectorHeader = { ringId: 0, sectorSeq: 0, firstSeq: 0, syncPoint: 0 };
    const bytes = this.scratch.subarray(0, SECTOR_HEADER_BYTES);
    let highest = 0;
    for (let s = LAYOUT_SLOTS; s < this.sectorCount; s++) {
      this.port.read(s * this.sectorSize, bytes);
      if (decodeSectorHeader(bytes, 0, h) && h.ringId > highest) highest = h.ringId;
    }
    return highest;
  }
}

function firstFit(used: Uint8Array, length: number, from: number): number {
  let run = 0;
  for (let s = from; s < used.length; s++) {
    run = used[s] ? 0 : run + 1;
    if (run === length) return s - length + 1;
  }
  return -1;
}

/**
 * The partition as mapped bytes when the driver offers them whole (FlashPort.map), else undefined:
 * a map that fails or has the wrong size is logged once and reads copy as without one.
 */
function mapPartition(flash: FlashPort, log: Logger): Uint8Array | undefined {
  if (typeof flash.map !== "function") return undefined;
  try {
    const bytes = flash.map();
    if (bytes === undefined) return undefined;
    if (bytes instanceof Uint8Array && bytes.length === flash.size) return bytes;
    log.warn(
      `storage: the mapped partition has ${(bytes as { length?: unknown })?.length} bytes, not ${flash.size}; reads copy instead`,
    );
  } catch (error) {
    log.warn(
      `storage: the partition cannot be mapped (${(error as Error)?.message ?? error}); reads copy instead`,
    );
  }
  return undefined;
}

/** Opens (recovering or formatting) the store on `options.flash`. Never throws on bad flash contents. */
export function openRingStore(options: RingStoreOptions): FlashRingStore {
  return new FlashRingStore(options);
}
