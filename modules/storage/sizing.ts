/*
 * Ring sizes from the cloud config's `cache_size_kb` (per capture method).
 */

/** Ring size when a capture method sets no `cache_size_kb`: 64 KiB (16 ESP32 sectors). */
export const DEFAULT_RING_KB = 64;

/**
 * Sectors for a ring asked to hold `cacheSizeKb` KiB: rounded up to whole
 * sectors, at least 2 (a ring needs a sector to erase while keeping one).
 * Missing, non-numeric or non-positive values give the default.
 */
export function ringSectorsFor(cacheSizeKb: number | undefined, sectorSize: number): number {
  // Number.isFinite is false for anything but a finite number (no coercion), so no typeof test is needed.
  const kb =
    Number.isFinite(cacheSizeKb) && (cacheSizeKb as number) > 0 ? (cacheSizeKb as number) : DEFAULT_RING_KB;
  return Math.max(2, Math.ceil((kb * 1024) / sectorSize));
}
