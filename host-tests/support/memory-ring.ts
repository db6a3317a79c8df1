/*
 * An in-RAM Ring with the store contract's semantics (greedy budgeted reads,
 * at least one record, commit moves the sync point, a capacity in records that
 * drops the oldest). Platform-free: lets sync's core tests run in both lanes
 * without the flash store; the Node tests use the real store on NOR emulation.
 */
import type { ReadChunk, RecordBatch, Ring, RingCounters } from "../../modules/storage/types";

export class MemoryRing implements Ring {
  readonly key: string;
  syncPoint = 0;
  private records: { seq: number; bytes: Uint8Array }[] = [];
  private nextSeq = 1;
  private readonly capacityRecords: number;
  readonly count = { appended: 0, committed: 0, dropped: 0, reads: 0, commits: 0 };

  constructor(key: string, capacityRecords = Number.POSITIVE_INFINITY) {
    this.key = key;
    this.capacityRecords = capacityRecords;
  }

  /** Test helper: append records given as byte arrays. */
  push(...records: Uint8Array[]): void {
    for (const bytes of records) {
      this.records.push({ seq: this.nextSeq++, bytes: bytes.slice() });
      this.count.appended++;
      if (this.records.length > this.capacityRecords) {
        const dropped = this.records.shift()!;
        if (dropped.seq > this.syncPoint) this.count.dropped++;
      }
    }
  }

  append(batch: RecordBatch): void {
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.ends[i]!;
      this.push(batch.bytes.subarray(start, end));
      start = end;
    }
  }

  writableWithoutErase(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  eraseAhead(): number {
    return 0;
  }

  read(budgetBytes: number, afterSeq?: number): ReadChunk | null {
    this.count.reads++;
    const after = afterSeq ?? this.syncPoint;
    const out: Uint8Array[] = [];
    let bytes = 0;
    let firstSeq = 0;
    let lastSeq = 0;
    for (const r of this.records) {
      if (r.seq <= after) continue;
      if (out.length > 0 && bytes + r.bytes.length > budgetBytes) break;
      if (out.length === 0) firstSeq = r.seq;
      out.push(r.bytes);
      bytes += r.bytes.length;
      lastSeq = r.seq;
    }
    return out.length === 0 ? null : { records: out, firstSeq, lastSeq, bytes };
  }

  commit(uptoSeq: number): void {
    this.count.commits++;
    if (uptoSeq <= this.syncPoint) return;
    for (const r of this.records) if (r.seq > this.syncPoint && r.seq <= uptoSeq) this.count.committed++;
    this.syncPoint = uptoSeq;
    this.records = this.records.filter((r) => r.seq > uptoSeq);
  }

  counters(): RingCounters {
    const unsynced = this.records.filter((r) => r.seq > this.syncPoint);
    return {
      appended: this.count.appended,
      committed: this.count.committed,
      dropped: this.count.dropped,
      discarded: 0,
      pending: unsynced.length,
      corrupt: 0,
      bytesUsed: this.records.reduce((n, r) => n + r.bytes.length, 0),
      bytesPending: unsynced.reduce((n, r) => n + r.bytes.length, 0),
      capacityBytes: Number.MAX_SAFE_INTEGER,
    };
  }
}
