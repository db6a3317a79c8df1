// `npm run bench -- storage`: what the flash ring store costs the device.
// Steady-state capture at 100 Hz with 1 s batches of 40-byte readings (and,
// side by side, the same readings appended one by one), open time of a full
// 1 MiB partition measured inside the XS engine (bench/xs/storage-open.ts)
// next to reading every record, and the power cuts survived by the same
// checks the tests use. Prints a table, then the BENCH line.

import { Random } from "../host-tests/harness/random";
import { runPowerCutCase, scenarioOperations } from "../host-tests/support/flash-scenario";
import type { FlashPort } from "../modules/ports";
import { NorImage, type TearMode } from "../modules/storage/nor-image";
import { openRingStore } from "../modules/storage/ring-store";
import { type HotPathFigures, measureOpen, type OpenFigures, SECTOR } from "./xs/storage-measure";
import { xsFigures } from "./xs-entry";

const RECORD = 40;

/** Counts the program operations that start a sector (a header goes out with them). */
class SectorOpenCounter implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  opened = 0;
  constructor(private readonly inner: NorImage) {
    this.size = inner.size;
    this.sectorSize = inner.sectorSize;
  }
  read(offset: number, target: Uint8Array): void {
    this.inner.read(offset, target);
  }
  write(offset: number, data: Uint8Array): void {
    if (offset % this.sectorSize === 0 && offset >= 2 * this.sectorSize) this.opened++;
    this.inner.write(offset, data);
  }
  eraseSector(index: number): void {
    this.inner.eraseSector(index);
  }
}

interface CaptureFigures {
  records: number;
  flashBytesPerRecord: number;
  programOpsPerRecord: number;
  maxProgramOpsPerBatchPerSector: number;
  erasesPerMillionRecords: number;
  erasesInsideAppend: number;
}

/**
 * `perBatch` readings of 40 bytes per append, a sync (read everything, commit)
 * every `syncEvery` appends, erase-ahead before each append as the sampler would.
 */
function steadyCapture(totalRecords: number, perBatch: number, syncEvery: number): CaptureFigures {
  const nor = new NorImage({ size: 64 * SECTOR, sectorSize: SECTOR });
  const flash = new SectorOpenCounter(nor);
  const store = openRingStore({ flash, layout: [{ key: "rdk:component:sensor/s/Readings", sectors: 16 }] });
  const ring = store.ring("rdk:component:sensor/s/Readings")!;
  const bytes = new Uint8Array(perBatch * RECORD);
  const ends = new Uint32Array(perBatch);
  for (let i = 0; i < perBatch; i++) ends[i] = (i + 1) * RECORD;
  nor.resetCounters();
  flash.opened = 0;
  let maxOpsPerSector = 0;
  let erasesInsideAppend = 0;
  const batches = totalRecords / perBatch;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < bytes.length; i += 8) bytes[i] = (b + i) & 0xff;
    ring.eraseAhead(perBatch * (RECORD + 1) + 64);
    const ops = nor.programOps;
    const erases = nor.erases;
    const opened = flash.opened;
    const headOffsetBefore = ring.counters().bytesUsed % SECTOR;
    ring.append({ bytes, ends, count: perBatch });
    erasesInsideAppend += nor.erases - erases;
    const sectors = flash.opened - opened + (headOffsetBefore === 0 ? 0 : 1);
    maxOpsPerSector = Math.max(maxOpsPerSector, (nor.programOps - ops) / Math.max(1, sectors));
    if ((b + 1) % syncEvery === 0) {
      let after: number | undefined;
      let last = 0;
      for (;;) {
        const chunk = ring.read(32 * 1024, after);
        if (!chunk) break;
        after = last = chunk.lastSeq;
      }
      if (last) ring.commit(last);
    }
  }
  const c = ring.counters();
  if (c.appended !== totalRecords || c.dropped !== 0)
    throw new Error(`capture lost records: ${JSON.stringify(c)}`);
  // Flash consumed: every sector opened, the unused tail of each included.
  return {
    records: totalRecords,
    flashBytesPerRecord: (flash.opened * SECTOR) / totalRecords,
    programOpsPerRecord: nor.programOps / totalRecords,
    maxProgramOpsPerBatchPerSector: maxOpsPerSector,
    erasesPerMillionRecords: (nor.erases * 1e6) / totalRecords,
    erasesInsideAppend,
  };
}

function powerCuts(): number {
  const tears: TearMode[] = ["none", "prefix", "bits", "random"];
  let survived = 0;
  for (const scenarioSeed of [21, 22, 23]) {
    const total = scenarioOperations(scenarioSeed).operations;
    for (let k = 0; k < total; k++) {
      for (const tear of tears) {
        for (const retainAfter of [true, false]) {
          if (runPowerCutCase({ scenarioSeed, cutAt: k, tear, retainAfter }).cut) survived++;
        }
      }
    }
  }
  const rng = new Random(99);
  for (let i = 0; i < 3000; i++) {
    const outcome = runPowerCutCase({
      scenarioSeed: 1 + rng.int(1 << 30),
      cutAt: rng.int(160),
      tear: rng.pick(tears),
      retainAfter: rng.float() < 0.5,
      tearSeed: rng.u32(),
      steps: 90,
    });
    if (outcome.cut) survived++;
  }
  return survived;
}

const batched = steadyCapture(1_000_000, 100, 6);
const unbatched = steadyCapture(100_000, 1, 600);
const xs = xsFigures<OpenFigures & HotPathFigures>("bench/xs/storage-open.ts");
const node = measureOpen(() => performance.now());
const survived = powerCuts();

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;
const figures = {
  payloadBytesPerRecord: RECORD,
  flashBytesPerRecord: round(batched.flashBytesPerRecord, 2),
  overheadPercent: round((100 * (batched.flashBytesPerRecord - RECORD)) / RECORD, 2),
  programOpsPerRecord: round(batched.programOpsPerRecord, 4),
  maxProgramOpsPerBatchPerSector: round(batched.maxProgramOpsPerBatchPerSector, 2),
  erasesPerMillionRecords: round(batched.erasesPerMillionRecords),
  erasesInsideAppend: batched.erasesInsideAppend,
  flashBytesPerRecordUnbatched: round(unbatched.flashBytesPerRecord, 2),
  programOpsPerRecordUnbatched: round(unbatched.programOpsPerRecord, 4),
  openMsFull1MiB: round(xs.openMs, 2),
  openRetainMsFull1MiB: round(xs.openRetainMs, 2),
  readAllMsFull1MiB: round(xs.readAllMs, 1),
  openVsReadAllRatio: round(xs.readAllMs / xs.openMs, 1),
  openBytesReadFull1MiB: xs.bytesReadByOpen,
  recordsInFull1MiB: xs.recordsInPartition,
  openMsFull1MiBNode: round(node.openMs, 3),
  appendUsPerBatchXs: round(xs.appendUsPerBatch),
  readCommitUsPer600RecordsXs: round(xs.readCommitUsPer600),
  powerCutsSurvived: survived,
};

const rows: [string, string][] = [
  ["payload per reading (record)", `${figures.payloadBytesPerRecord} B`],
  [
    "flash per reading, 100 Hz in 1 s batches",
    `${figures.flashBytesPerRecord} B (+${figures.overheadPercent}%)`,
  ],
  ["flash per reading, appended one by one", `${figures.flashBytesPerRecordUnbatched} B`],
  ["program operations per reading, 1 s batches", `${figures.programOpsPerRecord}`],
  ["program operations per reading, one by one", `${figures.programOpsPerRecordUnbatched}`],
  ["most program operations per batch per sector", `${figures.maxProgramOpsPerBatchPerSector}`],
  ["sector erases per million readings", `${figures.erasesPerMillionRecords}`],
  ["erases inside append (erase-ahead used)", `${figures.erasesInsideAppend}`],
  ["open full 1 MiB partition, XS (discard rule)", `${figures.openMsFull1MiB} ms`],
  ["open full 1 MiB partition, XS (retain rule)", `${figures.openRetainMsFull1MiB} ms`],
  [
    `read all ${figures.recordsInFull1MiB} records once, XS`,
    `${figures.readAllMsFull1MiB} ms (${figures.openVsReadAllRatio}x open)`,
  ],
  ["flash bytes read by open", `${figures.openBytesReadFull1MiB} B of 1048576`],
  ["open full 1 MiB partition, Node", `${figures.openMsFull1MiBNode} ms`],
  ["append of a 100-reading batch, CPU in XS", `${figures.appendUsPerBatchXs} µs`],
  ["read + commit of 600 readings, CPU in XS", `${figures.readCommitUsPer600RecordsXs} µs`],
  ["power cuts survived (every invariant checked)", `${figures.powerCutsSurvived}`],
];
const width = Math.max(...rows.map((r) => r[0].length));
console.log("\nstorage (flash ring store)");
for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
console.log(`BENCH ${JSON.stringify({ key: "storage", figures })}`);
