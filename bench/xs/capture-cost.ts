/*
 * Runs inside the XS engine (driven by bench/xs/capture-worker.ts, mode
 * "cost"): the work per reading of each stage of the capture → flash → sync
 * pipeline, for the XS meter to count (computrons are deterministic: they do
 * not depend on the machine or its load). One `evaluate` per call:
 *   __costPrepare(signal)   set everything up (not measured)
 *   __costRun(stage)        the measured work; returns nothing, leaves the reading count in __costReadings
 *   __costNoop()            the same evaluate with no work (subtracted)
 * Stages: "capture" (sample + encode + RAM batch; a ring that takes and forgets batches),
 * "store" (append the captured blocks to the real ring store on NOR, CRC included),
 * "sync" (read them back, transcode to SensorData into the request buffer).
 */
import { Capture } from "../../modules/capture/capture";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { silentLogger } from "../../modules/ports";
import { ProtoWriter } from "../../modules/proto/writer";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import type {
  RecordBatch,
  Ring,
  RingCounters,
  RingLayoutEntry,
  RingStore,
} from "../../modules/storage/types";
import { memoryKv, type Signal, StepClock, signalConfig, signalRegistry } from "./capture-signals";

/** Keeps a copy of every batch (to replay into the real store), or forgets them. */
class KeepRing implements Ring {
  syncPoint = 0;
  keep = false;
  readonly blocks: Uint8Array[] = [];
  constructor(readonly key: string) {}
  append(batch: RecordBatch): void {
    if (this.keep) this.blocks.push(batch.bytes.slice(0, batch.ends[0]!));
  }
  writableWithoutErase(): number {
    return 1 << 30;
  }
  readonly version = 0;
  eraseAhead(): number {
    return 0;
  }
  read() {
    return null;
  }
  commit(): void {}
  counters(): RingCounters {
    return {
      appended: 0,
      committed: 0,
      dropped: 0,
      discarded: 0,
      pending: 0,
      corrupt: 0,
      bytesUsed: 0,
      bytesPending: 0,
      capacityBytes: 0,
    };
  }
}

class KeepStore implements RingStore {
  ring0: KeepRing | undefined;
  configure(layout: RingLayoutEntry[]): void {
    this.ring0 ??= new KeepRing(layout[0]!.key);
  }
  ring() {
    return this.ring0;
  }
  rings() {
    return this.ring0 ? [this.ring0] : [];
  }
  close(): void {}
}

interface Prepared {
  capture: Capture;
  clock: StepClock;
  captureMs: number;
  blocks: Uint8Array[];
  blockReadings: number;
  batch: { bytes: Uint8Array; ends: Uint32Array; count: number };
  storeRing: Ring;
  writer: ProtoWriter;
}

let p: Prepared | undefined;
const g = globalThis as Record<string, unknown>;

function prepare(signal: Signal): void {
  const store = new KeepStore();
  const clock = new StepClock();
  const capture = new Capture({
    store,
    clock,
    timers: clock,
    log: silentLogger,
    registry: signalRegistry(),
    kv: memoryKv(),
  });
  capture.apply(parseMachineConfig(signalConfig(signal)));
  const hz = signal === "imu200" ? 200 : signal === "imu100" ? 100 : signal === "env" ? 1 : 10;
  // Warm up (first blocks, adaptive state), then keep the blocks of a steady stretch for the other stages.
  clock.advance(Math.ceil(4000 / hz) * 1000);
  capture.flush();
  store.ring0!.keep = true;
  const before = capture.stats()[0]!.flushed;
  clock.advance(Math.ceil(2000 / hz) * 1000);
  capture.flush();
  store.ring0!.keep = false;
  const blocks = store.ring0!.blocks;
  const blockReadings = capture.stats()[0]!.flushed - before;
  const flash = openRingStore({ flash: new NorImage({ size: 256 * 4096 }) });
  flash.configure([{ key: store.ring0!.key, sectors: 200 }]);
  const storeRing = flash.ring(store.ring0!.key)!;
  let largest = 0;
  for (const b of blocks) if (b.length > largest) largest = b.length;
  const bytes = new Uint8Array(largest);
  p = {
    capture,
    clock,
    captureMs: Math.ceil(2000 / hz) * 1000,
    blocks,
    blockReadings,
    batch: { bytes, ends: new Uint32Array(1), count: 1 },
    storeRing,
    writer: new ProtoWriter(1 << 16),
  };
}

function run(stage: string): void {
  const s = p!;
  if (stage === "capture") {
    const before = s.capture.stats()[0]!.captured;
    s.clock.advance(s.captureMs);
    g.__costReadings = s.capture.stats()[0]!.captured - before;
  } else if (stage === "store") {
    for (const block of s.blocks) {
      s.batch.bytes.set(block);
      s.batch.ends[0] = block.length;
      s.storeRing.append(s.batch);
    }
    g.__costReadings = s.blockReadings;
  } else if (stage === "read") {
    // sync's flash read alone (CRC checks included), to split sync into read and transcode
    let records = 0;
    let after: number | undefined;
    for (;;) {
      const chunk = s.storeRing.read(16 * 1024, after);
      if (!chunk) break;
      records += chunk.records.length;
      after = chunk.lastSeq;
    }
    g.__costReadings = records > 0 ? s.blockReadings : 0;
  } else if (stage === "sync") {
    let readings = 0;
    let after: number | undefined;
    for (;;) {
      const chunk = s.storeRing.read(16 * 1024, after);
      if (!chunk) break;
      for (const record of chunk.records) {
        s.writer.reset();
        readings += s.capture.writeSensorData(record, s.writer, 2);
      }
      after = chunk.lastSeq;
    }
    g.__costReadings = readings;
  }
}

g.__costPrepare = prepare;
g.__costRun = run;
g.__costNoop = () => {};
g.__report = () => {
  issueCommand(
    new TextEncoder().encode(JSON.stringify({ readings: g.__costReadings })).buffer as ArrayBuffer,
  );
};
declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
