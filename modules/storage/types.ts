/*
 * The ring store's contract, as capture (the writer) and sync (the reader)
 * see it. Records are opaque byte strings to the store; capture decides their
 * encoding. One ring per collector (component + method), identified by a key.
 */

/** A collector's ring in the partition layout. */
export interface RingLayoutEntry {
  /** Stable identity of the collector, e.g. "rdk:component:sensor/temp/Readings". */
  key: string;
  /** Ring size in whole flash sectors (≥ 2). */
  sectors: number;
}

/**
 * A RAM batch of records handed to `Ring.append`: record i occupies
 * bytes[ends[i-1] .. ends[i]) (record 0 starts at 0). Owned by the caller and
 * reused after `append` returns.
 */
export interface RecordBatch {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  readonly count: number;
}

/** Records after the sync point, as read for one upload. */
export interface ReadChunk {
  /** Each record's bytes (CRC verified), in sequence order. */
  readonly records: Uint8Array[];
  /** Sequence number of records[0]; records are consecutive unless some were dropped. */
  readonly firstSeq: number;
  /** Sequence number of the last record: pass it to `commit` after the cloud acknowledged the chunk. */
  readonly lastSeq: number;
  /** Sum of the records' lengths. */
  readonly bytes: number;
}

/** Per-ring counts. "records" = readings when capture stores one reading per record. */
export interface RingCounters {
  /** Records appended since this store was opened. */
  appended: number;
  /** Records moved past by `commit` since open (acknowledged by the cloud). */
  committed: number;
  /** Records lost because the ring was full and its oldest sector was erased (since open). */
  dropped: number;
  /** Records after the sync point discarded at open (reboot semantics "discard", the default). */
  discarded: number;
  /** Records after the sync point kept at open (reboot semantics `retainUnsynced`); they are part of `pending`. */
  retained?: number;
  /** Records in flash after the sync point, not yet acknowledged. */
  pending: number;
  /** Records that failed their CRC or framing when read (torn writes), skipped. */
  corrupt: number;
  /**
   * Flash bytes of the ring's live sectors, sector headers included, acknowledged
   * records included: what has been written since those sectors were last erased.
   * It falls only when the ring reuses a sector, so it is wear/erase accounting,
   * not "how full": use `bytesPending` for that.
   */
  bytesUsed: number;
  /**
   * Flash bytes holding records after the sync point, measured like
   * `capacityBytes` (record space, sector headers excluded). 0 when nothing is
   * pending: acknowledged records no longer count, their space is reusable.
   * Exact to the sector; within the sector holding the sync point it is that
   * sector's pending share of records (no flash read).
   * `bytesPending / capacityBytes` is how full the ring is: at 1 (100%) it holds
   * all it guarantees to keep, and the next sector it reuses overwrites
   * unsynced records (counted in `dropped`). Just before that reuse it can
   * exceed 1 by up to one sector's share; read anything ≥ 1 as "full". A
   * writer that erases ahead (capture keeps two batches writable) reuses the
   * oldest sector that much earlier, so a ring it overwrites reads just under
   * 1 (98.7% for a 4-sector ring with 1000-byte batches).
   */
  bytesPending: number;
  /** Record space the ring guarantees to keep unsynced records in: all sectors but one, headers excluded. */
  capacityBytes: number;
}

export interface Ring {
  readonly key: string;
  /** Sequence number of the last acknowledged record (0 when none yet). */
  readonly syncPoint: number;
  /** Append a whole batch with as few program operations as possible. May erase (ring full: oldest dropped). */
  append(batch: RecordBatch): void;
  /** Bytes that can be appended now without any erase. */
  writableWithoutErase(): number;
  /**
   * A number that changes whenever `writableWithoutErase()` may have changed (anything written or
   * erased): a caller that got an answer can skip asking again while it stays the same.
   */
  readonly version: number;
  /**
   * Erase ahead of the write head so at least `bytes` more can be appended
   * without an erase stall; the caller picks the moment. Returns the number of
   * sectors erased (each one a stall on ESP32).
   */
  eraseAhead(bytes: number): number;
  /**
   * Records after the sync point (or after `afterSeq` if given), up to
   * `budgetBytes` of record payload; always at least one record if any is
   * pending (even one larger than the budget). null when nothing is pending.
   * Never moves the sync point.
   */
  read(budgetBytes: number, afterSeq?: number): ReadChunk | null;
  /** Persist the sync point: every record with seq ≤ `uptoSeq` is acknowledged and its space reusable. */
  commit(uptoSeq: number): void;
  counters(): RingCounters;
}

export interface RingStore {
  /**
   * Apply a ring layout. Rings whose key and size are unchanged keep their
   * records and sync point; see the store's FORMAT.md for the rule on changes.
   */
  configure(layout: RingLayoutEntry[]): void;
  ring(key: string): Ring | undefined;
  rings(): Ring[];
  close(): void;
  /**
   * The partition behind the store, for sizing rings that have no explicit
   * size. Optional: a store without a fixed partition (a RAM test double)
   * omits it, and such rings get their configured fallback size.
   */
  geometry?(): StoreGeometry;
}

/** What a ring store can hold, and what it holds now. */
export interface StoreGeometry {
  sectorSize: number;
  /** Sectors rings can use in all (the partition minus the store's own bookkeeping). */
  ringSectors: number;
  /** Rings in the stored layout (on flash, so also those of an earlier boot), with their sizes. */
  rings: readonly RingLayoutEntry[];
}
