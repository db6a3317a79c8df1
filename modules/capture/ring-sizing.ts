/*
 * Automatic ring sizes. A ring is a log: every lap erases each of its sectors
 * once, so a sector's wear is (bytes written) ÷ (ring size) and the time the
 * ring can hold data while offline is (ring size) ÷ (byte rate). Both grow
 * with the ring, so rings without an explicit size share the partition in
 * proportion to their byte rates: every auto ring then laps at about the same
 * pace and the partition wears out evenly, after about
 *
 *   partition bytes × 100 000 erase cycles ÷ total flash bytes per second.
 *
 * Rules (docs/capture.md, "Ring sizes"):
 * - A ring with an explicit size (flash_sectors, cache_size_kb, ring_sectors) gets it.
 * - A ring already in the store's layout keeps its size: a resize reformats a
 *   ring and loses its unsynced records, so a frequency change never resizes.
 * - New auto rings share the free sectors minus a reserve (1/8 of the
 *   partition) kept for collectors added later, in proportion to estimated
 *   flash bytes per second, each at least MIN_RING_SECTORS. A collector added
 *   later takes its share from the reserve. When even that leaves less than
 *   the minimum, every new ring gets the minimum and a warning says so.
 */

import type { RingLayoutEntry, StoreGeometry } from "../storage/types";
import { KIND_GPIO, KIND_READINGS, kindArity } from "./methods";

/** A ring needs one sector to erase while it keeps another. */
export const MIN_RING_SECTORS = 2;

/** New auto rings leave 1/RESERVE_DIVISOR of the partition free for collectors added later. */
export const RESERVE_DIVISOR = 8;

/**
 * Flash bytes per reading besides its values (block format 2, capture/FORMAT.md):
 * time as Δ² and latency (a few bits at a steady rate) and the block and
 * record framing shared by the readings of a batch.
 */
export const READING_OVERHEAD_BYTES = 1;

/**
 * Bytes of one number of a fixed-shape method: a code delta of up to 16 bits
 * (a sensor's counts or decimals; measured: 1 byte per gyro axis at 200 Hz,
 * under 1 for a 12-bit ADC). A value with no step (an arbitrary double)
 * takes 8: such a ring fills faster than planned.
 */
export const VALUE_BYTES_ESTIMATE = 2;

/**
 * One Readings reading: its shape is known only when it arrives, so this is
 * an estimate, a map of about five numbers with two decimals, flushed every
 * few seconds (the block header then weighs; measured 10.4 bytes for a
 * 4-field BME280-like map at 1 Hz).
 */
export const READINGS_VALUE_BYTES_ESTIMATE = 12;

/** Estimated flash bytes one reading of method `kind` takes (capture/FORMAT.md). */
export function estimatedFlashBytesPerReading(kind: number): number {
  if (kind === KIND_READINGS) return READING_OVERHEAD_BYTES + READINGS_VALUE_BYTES_ESTIMATE;
  if (kind === KIND_GPIO) return READING_OVERHEAD_BYTES;
  return READING_OVERHEAD_BYTES + VALUE_BYTES_ESTIMATE * kindArity(kind);
}

/** One ring the layout needs. */
export interface RingDemand {
  key: string;
  /** The explicit size, or for an auto ring the size to use when the store has no geometry. */
  sectors: number;
  auto: boolean;
  /** Estimated flash bytes per second (0 for a collector that captures nothing). */
  bytesPerSecond: number;
}

export interface RingPlan {
  /** One entry per demand, in demand order. */
  layout: RingLayoutEntry[];
  /** "" or why the new auto rings got less than their share. */
  warning: string;
}

/**
 * Sizes for `demands`. `existing` holds the sizes of rings already laid out
 * (the store's layout and the capture's current one); `extraSectors` is what
 * other rings kept in the layout take (rings that left with data pending).
 */
export function planRings(
  demands: readonly RingDemand[],
  existing: ReadonlyMap<string, number>,
  extraSectors: number,
  geometry: StoreGeometry | undefined,
): RingPlan {
  const sizes: number[] = new Array(demands.length);
  const fresh: number[] = [];
  let kept = extraSectors;
  let fixed = extraSectors;
  let autoRate = 0;
  demands.forEach((d, i) => {
    const old = existing.get(d.key);
    if (!d.auto || !geometry) {
      sizes[i] = d.sectors;
      // An explicit ring that cannot fit beside the explicit rings before it is left out by the store
      // (and reported for its collector alone): it must not squeeze the automatic rings either.
      if (geometry && fixed + d.sectors > geometry.ringSectors) return;
      kept += d.sectors;
      fixed += d.sectors;
      return;
    }
    autoRate += rate(d);
    if (old !== undefined) {
      sizes[i] = old;
      kept += old;
    } else fresh.push(i);
  });
  let warning = "";
  if (fresh.length > 0 && geometry) {
    const total = geometry.ringSectors;
    const free = Math.max(0, total - kept);
    const reserve = Math.floor(total / RESERVE_DIVISOR);
    const minimum = MIN_RING_SECTORS * fresh.length;
    // What each new ring would get had every auto ring been planned at once: the ceiling for a
    // ring added later, so a slow collector does not take the whole reserve.
    const shareable = Math.max(0, total - fixed);
    let wanted = 0;
    for (const i of fresh) {
      const share = autoRate > 0 ? Math.floor((shareable * rate(demands[i]!)) / autoRate) : 0;
      wanted += Math.max(MIN_RING_SECTORS, share);
    }
    let budget = free - reserve;
    if (budget < minimum) budget = Math.min(free, wanted);
    else budget = Math.min(budget, wanted);
    if (budget <= minimum) {
      for (const i of fresh) sizes[i] = MIN_RING_SECTORS;
      if (wanted > minimum || free < minimum) {
        warning = `the partition's ${free} free sectors (of ${total}) leave ${fresh.length} new ring${fresh.length === 1 ? "" : "s"} only the minimum of ${MIN_RING_SECTORS} sectors: a ring laps quickly (more wear, less offline buffering)${free < minimum ? "; some do not fit at all" : ""}`;
      }
    } else {
      share(
        budget,
        fresh.map((i) => rate(demands[i]!)),
      ).forEach((n, j) => {
        sizes[fresh[j]!] = n;
      });
    }
  }
  return { layout: demands.map((d, i) => ({ key: d.key, sectors: sizes[i]! })), warning };
}

function rate(d: RingDemand): number {
  return Number.isFinite(d.bytesPerSecond) && d.bytesPerSecond > 0 ? d.bytesPerSecond : 0;
}

/**
 * Splits `budget` sectors (≥ MIN_RING_SECTORS × weights.length) in proportion
 * to `weights`, each at least MIN_RING_SECTORS: rings whose share falls below
 * the minimum get the minimum and the rest share what is left again, then
 * whole sectors go by largest remainder. Rings that write nothing get the
 * minimum; if none writes anything, the rest stays free.
 */
function share(budget: number, weights: readonly number[]): number[] {
  const n = weights.length;
  const out = new Array<number>(n).fill(MIN_RING_SECTORS);
  const open = new Set<number>();
  for (let i = 0; i < n; i++) if (weights[i]! > 0) open.add(i);
  let left = budget - MIN_RING_SECTORS * (n - open.size);
  for (;;) {
    let weight = 0;
    for (const i of open) weight += weights[i]!;
    let settled = false;
    for (const i of open) {
      if ((left * weights[i]!) / weight < MIN_RING_SECTORS) {
        open.delete(i);
        left -= MIN_RING_SECTORS;
        settled = true;
      }
    }
    if (!settled || open.size === 0) break;
  }
  if (open.size === 0) return out;
  let weight = 0;
  for (const i of open) weight += weights[i]!;
  const exact = new Map<number, number>();
  let given = 0;
  for (const i of open) {
    const x = (left * weights[i]!) / weight;
    out[i] = Math.floor(x);
    given += out[i]!;
    exact.set(i, x - out[i]!);
  }
  const byRemainder = [...open].sort((a, b) => exact.get(b)! - exact.get(a)!);
  for (let k = 0; given < left && k < byRemainder.length; k++, given++) {
    const i = byRemainder[k]!;
    out[i] = out[i]! + 1;
  }
  return out;
}
