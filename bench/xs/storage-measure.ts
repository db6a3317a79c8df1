/*
 * Platform-free measurements of the ring store, run inside XS by
 * bench/xs/storage-open.ts and in Node by bench/storage.bench.ts.
 */
import type { FlashPort } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import type { RingLayoutEntry } from "../../modules/storage/types";

export const MIB = 1024 * 1024;
export const SECTOR = 4096;
/** A 1 MiB partition: 2 layout sectors and four 63-sector rings, the way a four-collector device would use it. */
export const FULL_LAYOUT: RingLayoutEntry[] = [0, 1, 2, 3].map((i) => ({
  key: `rdk:component:sensor/s${i}/Readings`,
  sectors: 63,
}));

/** A 1 MiB image whose rings have all wrapped (every sector live), 40-byte records in 100-record batches. */
export function fullPartition(): { image: Uint8Array; records: number } {
  const flash = new NorImage({ size: MIB, sectorSize: SECTOR });
  const store = openRingStore({ flash, layout: FULL_LAYOUT });
  const bytes = new Uint8Array(100 * 40);
  const ends = new Uint32Array(100);
  for (let i = 0; i < 100; i++) ends[i] = (i + 1) * 40;
  let records = 0;
  for (const ring of store.rings()) {
    // Enough to wrap once: every sector ends up holding a header and frames.
    const batches = Math.ceil((ring.sectorCount * SECTOR * 1.1) / (41 * 100));
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < bytes.length; i += 4) bytes[i] = (b + i) & 0xff;
      ring.append({ bytes, ends, count: 100 });
      records += 100;
    }
  }
  store.close();
  return { image: flash.bytes, records };
}

export interface OpenFigures {
  /** Median ms to open the full partition, default reboot rule (discard + persist it). */
  openMs: number;
  /** Median ms to open keeping unsynced records. */
  openRetainMs: number;
  /** ms to read every record once through the reader (what a record-by-record open would cost at least). */
  readAllMs: number;
  bytesReadByOpen: number;
  readOpsByOpen: number;
  recordsInPartition: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function measureOpen(now: () => number, runs = 7): OpenFigures {
  const { image } = fullPartition();
  const discardTimes: number[] = [];
  const retainTimes: number[] = [];
  let bytesRead = 0;
  let readOps = 0;
  for (let r = 0; r < runs; r++) {
    for (const retainUnsynced of [false, true]) {
      const flash = new NorImage({ bytes: image.slice(), sectorSize: SECTOR });
      const t0 = now();
      const store = openRingStore({ flash, layout: FULL_LAYOUT, retainUnsynced });
      const t1 = now();
      (retainUnsynced ? retainTimes : discardTimes).push(t1 - t0);
      bytesRead = flash.bytesRead;
      readOps = flash.readOps;
      store.close();
    }
  }
  const flash = new NorImage({ bytes: image.slice(), sectorSize: SECTOR });
  const store = openRingStore({ flash, layout: FULL_LAYOUT, retainUnsynced: true });
  let recordsInPartition = 0;
  const t0 = now();
  for (const ring of store.rings()) {
    let after: number | undefined;
    for (;;) {
      const chunk = ring.read(64 * 1024, after);
      if (!chunk) break;
      recordsInPartition += chunk.records.length;
      after = chunk.lastSeq;
    }
  }
  const readAllMs = now() - t0;
  return {
    openMs: median(discardTimes),
    openRetainMs: median(retainTimes),
    readAllMs,
    bytesReadByOpen: bytesRead,
    readOpsByOpen: readOps,
    recordsInPartition,
  };
}

/**
 * Flash as plain RAM (no NOR checks, no counters), so hot-path timings are the
 * store's own CPU: on the device the driver's copy is native and the chip
 * stall is a separate cost (program/erase counts above).
 */
class RamFlash implements FlashPort {
  readonly sectorSize = SECTOR;
  readonly size: number;
  private readonly memory: Uint8Array;
  constructor(size: number) {
    this.size = size;
    this.memory = new Uint8Array(size).fill(0xff);
  }
  read(offset: number, target: Uint8Array): void {
    target.set(this.memory.subarray(offset, offset + target.length));
  }
  write(offset: number, data: Uint8Array): void {
    this.memory.set(data, offset);
  }
  eraseSector(index: number): void {
    this.memory.fill(0xff, index * SECTOR, (index + 1) * SECTOR);
  }
}

export interface HotPathFigures {
  /** Median µs of CPU per append of a 100 × 40-byte batch (flash time excluded). */
  appendUsPerBatch: number;
  /** Median µs to read 600 records (a 6 s sync at 100 Hz) and commit them. */
  readCommitUsPer600: number;
}

export function measureHotPath(now: () => number): HotPathFigures {
  const flash = new RamFlash(32 * SECTOR);
  const store = openRingStore({ flash, layout: [{ key: "s", sectors: 16 }] });
  const ring = store.ring("s")!;
  const bytes = new Uint8Array(100 * 40);
  const ends = new Uint32Array(100);
  for (let i = 0; i < 100; i++) ends[i] = (i + 1) * 40;
  const appendTimes: number[] = [];
  const readTimes: number[] = [];
  for (let b = 0; b < 600; b++) {
    bytes[0] = b & 0xff;
    ring.eraseAhead(4200);
    const t0 = now();
    ring.append({ bytes, ends, count: 100 });
    appendTimes.push(now() - t0);
    if ((b + 1) % 6 === 0) {
      const t1 = now();
      const chunk = ring.read(1 << 20);
      if (chunk) ring.commit(chunk.lastSeq);
      readTimes.push(now() - t1);
    }
  }
  return { appendUsPerBatch: median(appendTimes) * 1000, readCommitUsPer600: median(readTimes) * 1000 };
}
