/*
 * Counting readings in flash. The store counts records; capture stores a
 * block of readings per record, so reading counts come from the block headers
 * of the records after the sync point. Cost: one pass over the pending bytes,
 * in bounded chunks (no buffer proportional to the ring), which is why the
 * data manager does it at boot and in `status()`, never on the capture path.
 */
import type { Ring } from "../storage/types";

export interface Census {
  readings: number;
  records: number;
  /** Sequence number of the last pending record (the ring's sync point when none). */
  lastSeq: number;
}

interface StoreCensus {
  records: number;
  units: number;
  lastSeq: number;
}

/**
 * Readings in a stored block, as the census counts them (at least 1; a record
 * that is not a block counts 1), for `openRingStore({ recordUnits })`.
 */
export function blockReadings(countReadings: (record: Uint8Array) => number) {
  return (b: Uint8Array, start: number, end: number): number => {
    try {
      return Math.max(1, countReadings(b.subarray(start, end)));
    } catch {
      return 1;
    }
  };
}

/** `blockReadings` for a counter that reads the block in place (no subarray per record on the read path). */
export function blockReadingsIn(countReadingsIn: (b: Uint8Array, start: number, end: number) => number) {
  return (b: Uint8Array, start: number, end: number): number => {
    try {
      return Math.max(1, countReadingsIn(b, start, end));
    } catch {
      return 1;
    }
  };
}

/** Stored bytes read per step of the census. */
const CENSUS_CHUNK_BYTES = 8 * 1024;

export function pendingCensus(ring: Ring, countReadings: (record: Uint8Array) => number): Census {
  // A flash ring opened with `recordUnits` keeps running reading counts where
  // open reads them anyway: its census costs no flash read (issue 10).
  const counted = ring as Ring & { unitsCounted?: boolean; census?: () => StoreCensus };
  if (counted.unitsCounted === true && typeof counted.census === "function") {
    const c = counted.census();
    return { readings: c.units, records: c.records, lastSeq: c.lastSeq };
  }
  let readings = 0;
  let records = 0;
  let after = ring.syncPoint;
  for (;;) {
    const chunk = ring.read(CENSUS_CHUNK_BYTES, after);
    if (chunk === null || chunk.lastSeq <= after) break;
    for (const record of chunk.records) {
      let n = 1;
      try {
        n = Math.max(1, countReadings(record));
      } catch {
        // Not a block capsync wrote: sync sets it aside as one undecodable reading, so count it as one.
      }
      readings += n;
    }
    records += chunk.records.length;
    after = chunk.lastSeq;
  }
  return { readings, records, lastSeq: after };
}
