/*
 * Flash wear bookkeeping: counts erases per sector (persisted next to the
 * flash image, so the estimate covers the image's whole life) and projects
 * the time until the most-worn sector reaches its rated endurance.
 */
import * as fs from "node:fs";
import type { FlashPort } from "../../modules/ports.ts";

/** Typical rated endurance of SPI NOR sectors (erase/program cycles). */
export const ratedEraseCycles = 100_000;

export class WearCounter {
  readonly perSector: Uint32Array;
  private readonly path: string;
  private readonly startedAt: number;
  private readonly startCounts: Uint32Array;

  constructor(sectors: number, path: string, now: number = Date.now()) {
    this.path = path;
    this.perSector = new Uint32Array(sectors);
    try {
      const saved = JSON.parse(fs.readFileSync(path, "utf8")) as { erases?: unknown };
      if (Array.isArray(saved.erases) && saved.erases.length === sectors) {
        saved.erases.forEach((n, i) => {
          if (typeof n === "number" && Number.isInteger(n) && n >= 0) this.perSector[i] = n;
        });
      }
    } catch {
      // No file yet (fresh image) or unreadable: wear history starts at zero, which only under-estimates.
    }
    this.startedAt = now;
    this.startCounts = this.perSector.slice();
  }

  /** Wraps a flash port so every erase is counted. */
  wrap(flash: FlashPort): FlashPort {
    const counts = this.perSector;
    return {
      size: flash.size,
      sectorSize: flash.sectorSize,
      read: (offset, target) => flash.read(offset, target),
      write: (offset, data) => flash.write(offset, data),
      eraseSector(index) {
        flash.eraseSector(index);
        // Counted after the erase: a power cut mid-erase throws above and the cycle may not have happened.
        if (index >= 0 && index < counts.length) counts[index]!++;
      },
    };
  }

  save(): void {
    fs.writeFileSync(this.path, JSON.stringify({ ratedEraseCycles, erases: Array.from(this.perSector) }));
  }

  summary(now: number = Date.now()): {
    maxSectorErases: number;
    totalErases: number;
    maxSectorErasesPerHour: number;
    projectedLifetimeDays: number;
  } {
    let max = 0;
    let total = 0;
    let maxDelta = 0;
    let deltaSum = 0;
    let active = 0;
    for (let i = 0; i < this.perSector.length; i++) {
      const n = this.perSector[i]!;
      total += n;
      if (n > max) max = n;
      const delta = n - this.startCounts[i]!;
      if (delta > maxDelta) maxDelta = delta;
      if (delta > 0) {
        deltaSum += delta;
        active++;
      }
    }
    const hours = (now - this.startedAt) / 3_600_000;
    // A ring is a rotating log: its sectors wear evenly, so the average over the
    // sectors being cycled is a smooth estimate; (busiest − 1) / time is a floor
    // for the busiest sector that does not suffer from counting whole erases in
    // a short window. The larger of the two drives the projection. Erases come
    // a few per sector per minute at most: under a minute the rate is noise.
    const perHour =
      hours * 3600 >= 60
        ? Math.max(active > 0 ? deltaSum / active / hours : 0, Math.max(0, maxDelta - 1) / hours)
        : Number.NaN;
    const remaining = Math.max(0, ratedEraseCycles - max);
    const projectedLifetimeDays = Number.isNaN(perHour)
      ? Number.NaN
      : perHour === 0
        ? Number.POSITIVE_INFINITY
        : remaining / perHour / 24;
    return {
      maxSectorErases: max,
      totalErases: total,
      maxSectorErasesPerHour: perHour,
      projectedLifetimeDays,
    };
  }
}
