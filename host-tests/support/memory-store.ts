/*
 * An in-memory RingStore and Ring with the store contract's semantics, for
 * platform-free tests in both lanes (capture's and sync's) that need no flash:
 * greedy budgeted reads (always at least one record), commit moves the sync
 * point forward only and frees what it passes, records are kept as copies.
 * It counts what it was asked (appends, reads, commits, erase-ahead calls) so
 * tests can check the caller's side. No flash, so nothing is ever dropped;
 * tests of full rings and power cuts use the real store on NOR emulation.
 */
import type {
  ReadChunk,
  RecordBatch,
  Ring,
  RingCounters,
  RingLayoutEntry,
  RingStore,
} from "../../modules/storage/types";

export class MemoryRing implements Ring {
  readonly key: string;
  /** Ring size in the layout (it sets `capacityBytes` as 4 KiB sectors). */
  readonly sectors: number;
  syncPoint = 0;
  /** Bytes writable before an erase would be needed (tests may lower it to provoke erase-ahead). */
  writable = Number.POSITIVE_INFINITY;
  appendCalls = 0;
  eraseCalls = 0;
  readonly count = { appended: 0, committed: 0, reads: 0, commits: 0 };
  /** Records after the sync point, oldest first. */
  private records: { seq: number; bytes: Uint8Array }[] = [];
  private nextSeq = 1;

  constructor(key: string, sectors = 16) {
    this.key = key;
    this.sectors = sectors;
  }

  /** Test helper: append records given as byte arrays (copied). */
  push(...records: Uint8Array[]): void {
    for (const bytes of records) {
      this.records.push({ seq: this.nextSeq++, bytes: bytes.slice() });
      this.count.appended++;
      if (this.writable !== Number.POSITIVE_INFINITY)
        this.writable = Math.max(0, this.writable - bytes.length);
    }
  }

  append(batch: RecordBatch): void {
    this.appendCalls++;
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.ends[i]!;
      this.push(batch.bytes.subarray(start, end));
      start = end;
    }
  }

  /** Times writableWithoutErase was asked. */
  writableCalls = 0;
  writableWithoutErase(): number {
    this.writableCalls++;
    return this.writable;
  }

  /** The free space is all there is to the ring's state here (tests set it directly). */
  get version(): number {
    return this.writable;
  }

  eraseAhead(bytes: number): number {
    this.eraseCalls++;
    if (this.writable >= bytes) return 0;
    this.writable = bytes;
    return 1;
  }

  read(budgetBytes: number, afterSeq?: number): ReadChunk | null {
    this.count.reads++;
    const after = afterSeq === undefined || afterSeq < this.syncPoint ? this.syncPoint : afterSeq;
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
    // As the flash store: never backwards, never past the last record appended.
    const upto = Math.min(Math.floor(uptoSeq), this.nextSeq - 1);
    if (!(upto > this.syncPoint)) return;
    const before = this.records.length;
    this.records = this.records.filter((r) => r.seq > upto);
    this.count.committed += before - this.records.length;
    this.syncPoint = upto;
  }

  counters(): RingCounters {
    const bytes = this.records.reduce((n, r) => n + r.bytes.length, 0);
    return {
      appended: this.count.appended,
      committed: this.count.committed,
      dropped: 0,
      discarded: 0,
      pending: this.records.length,
      corrupt: 0,
      bytesUsed: bytes,
      bytesPending: bytes,
      capacityBytes: this.sectors * 4096,
    };
  }
}

export class MemoryStore implements RingStore {
  private readonly map = new Map<string, MemoryRing>();
  layouts: RingLayoutEntry[][] = [];

  configure(layout: RingLayoutEntry[]): void {
    this.layouts.push(layout.map((e) => ({ ...e })));
    const keep = new Set(layout.map((e) => e.key));
    for (const key of [...this.map.keys()]) if (!keep.has(key)) this.map.delete(key);
    for (const entry of layout) {
      const ring = this.map.get(entry.key);
      if (!ring || ring.sectors !== entry.sectors)
        this.map.set(entry.key, new MemoryRing(entry.key, entry.sectors));
    }
  }

  ring(key: string): MemoryRing | undefined {
    return this.map.get(key);
  }

  rings(): MemoryRing[] {
    return [...this.map.values()];
  }

  close(): void {}
}
