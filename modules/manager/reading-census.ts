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

/** Stored bytes read per step of the census. */
const CENSUS_CHUNK_BYTES = 8 * 1024;

export function pendingCensus(ring: Ring, countReadings: (record: Uint8Array) => number): Census {
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
