/*
 * A tiny in-memory RingStore for platform-free tests of capture: records are
 * kept as copies, there is no flash and no erase. It counts what capture asked
 * of it (appends, erase-ahead calls) so tests can check the sampler's side.
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
  syncPoint = 0;
  records: { seq: number; bytes: Uint8Array }[] = [];
  appendCalls = 0;
  eraseCalls = 0;
  /** Bytes writable before an erase would be needed (tests may lower it to provoke erase-ahead). */
  writable = Number.POSITIVE_INFINITY;
  private seq = 0;
  private appended = 0;
  private committed = 0;

  constructor(
    key: string,
    readonly sectors: number,
  ) {
    this.key = key;
  }

  append(batch: RecordBatch): void {
    this.appendCalls++;
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.ends[i]!;
      this.records.push({ seq: ++this.seq, bytes: batch.bytes.slice(start, end) });
      if (this.writable !== Number.POSITIVE_INFINITY)
        this.writable = Math.max(0, this.writable - (end - start));
      start = end;
      this.appended++;
    }
  }

  writableWithoutErase(): number {
    return this.writable;
  }

  eraseAhead(bytes: number): number {
    this.eraseCalls++;
    if (this.writable >= bytes) return 0;
    this.writable = bytes;
    return 1;
  }

  read(budgetBytes: number, afterSeq?: number): ReadChunk | null {
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
    const before = this.records.length;
    this.records = this.records.filter((r) => r.seq > uptoSeq);
    this.committed += before - this.records.length;
    this.syncPoint = uptoSeq;
  }

  counters(): RingCounters {
    const bytesUsed = this.records.reduce((n, r) => n + r.bytes.length, 0);
    return {
      appended: this.appended,
      committed: this.committed,
      dropped: 0,
      discarded: 0,
      pending: this.records.length,
      corrupt: 0,
      bytesUsed,
      bytesPending: bytesUsed,
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
