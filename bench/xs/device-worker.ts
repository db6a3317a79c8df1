/*
 * Node side of the device-cost measurements (bench/xs/device-entry.ts runs in
 * the XS engine of @agoric/xsnap). Each call into the worker is one
 * `evaluate` ("crank"), and xsnap reports per crank (xsnap-worker.c,
 * fxWriteOkay):
 *   compute           the crank's computrons: the engine's meter index, +1 per
 *                     bytecode executed (xsRun.c, mxBreak) plus per-element
 *                     charges inside natives (mxMeterSome: array, string,
 *                     typed-array and DataView work);
 *   currentHeapCount  slots in use: +1 per slot taken from the free list
 *                     (xsMemory.c, fxNewSlot), reset to the live count by each
 *                     collection — after a gc() crank it is exactly the live
 *                     slots, and after the next crank it is live + allocated;
 *   allocate          bytes the engine reserved from the OS (the host's slot
 *                     and chunk pools; says nothing per reading, not used).
 * The xsnap worker itself keeps one slot per evaluate (measured: 300
 * evaluates of "1" leave 301 live slots), so live-slot samples subtract the
 * cranks run since their baseline; per-reading differences cancel it.
 * None of them depends on the machine's speed or load.
 *
 * Per-reading figures are differences between a run of N and of 2N readings
 * (setup and fixed costs cancel). The whole measurement runs in a fresh
 * worker; the bench runs it twice and checks the two agree exactly.
 *
 *   node --import tsx bench/xs/device-worker.ts          → one JSON line: the figures
 *   node --import tsx bench/xs/device-worker.ts alloc    → one JSON line: allocations per reading per stage
 *   node --import tsx bench/xs/device-worker.ts imu      → one JSON line: the 3-axis stages alone (device CRC)
 */
import "@endo/init";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
// @ts-expect-error: @agoric/xsnap ships no type declarations
import { xsnap } from "@agoric/xsnap";
// @ts-expect-error: a plain .mjs script without types
import { bundle } from "../../scripts/xs-lane.mjs";

const root = path.resolve(import.meta.dirname, "../..");

interface Meter {
  compute: number;
  heap: number;
  /** Cranks run in this worker so far, this one included. */
  cranks: number;
}

type Message = Record<string, number | string>;

let tmpCounter = 0;
const tmpName = (_opts: unknown, cb: (e: null, name: string) => void) =>
  cb(null, path.join(os.tmpdir(), `capsync-device-xs-${process.pid}-${tmpCounter++}`));

async function withWorker<T>(
  body: (run: (code: string) => Promise<Meter>, messages: Message[]) => Promise<T>,
  entry = "bench/xs/device-entry.ts",
): Promise<T> {
  const decoder = new TextDecoder();
  const messages: Message[] = [];
  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fsp, ...fs, tmpName },
    name: "capsync-device-xs",
    meteringLimit: 0,
    stdout: "inherit",
    stderr: "inherit",
    handleCommand: async (bytes: Uint8Array) => {
      messages.push(JSON.parse(decoder.decode(bytes)));
      return new Uint8Array(0);
    },
  } as never);
  try {
    const script = await bundle(path.join(root, entry));
    await worker.evaluate(`globalThis.console = { log: (...a) => print(a.join(" ")) }; ${script}`);
    let cranks = 0;
    return await body(async (code) => {
      const result = await worker.evaluate(code);
      cranks++;
      const usage = result.meterUsage as { compute: number; currentHeapCount: number };
      return { compute: usage.compute, heap: usage.currentHeapCount, cranks };
    }, messages);
  } finally {
    await worker.close().catch(() => {});
  }
}

const last = (messages: Message[], kind: string): Message => {
  const m = messages.filter((x) => x.kind === kind).at(-1);
  if (!m) throw new Error(`the XS side sent no "${kind}" message`);
  return m;
};

export interface StageFigures {
  computronsPerReadingCapture: number;
  computronsPerReadingStore: number;
  computronsPerReadingSync: number;
  computronsPerReadingTotal: number;
  /** Heap slots allocated per reading: capture alone, capture + store append, sync. */
  slotsPerReadingCapture: number;
  slotsPerReadingCaptureStore: number;
  slotsPerReadingSync: number;
  syncRequestsPer1000Readings: number;
}

export interface DeviceFigures {
  /** As on the device: CRC-32 in the ESP32's ROM (device-entry.ts, romCrc32). */
  imu3Axis200Hz: StageFigures;
  readings4At1Hz: StageFigures;
  /** The same with the JavaScript CRC-32 (what the Node and XS lanes run). */
  imu3Axis200HzJsCrc: StageFigures;
  readings4At1HzJsCrc: StageFigures;
  peakLiveHeapSlotsExampleHour: number;
  hourCaptured: number;
  hourSynced: number;
  hourRequests: number;
  hourPending: number;
  peakChunkBytesSync: number;
  bootFlashBytesReadFull1MiB: number;
  bootComputronsFull1MiB: number;
  bootPendingReadings: number;
}

const SIZES = {
  imu: { capture: 2000, sync: 6000 },
  env: { capture: 120, sync: 600 },
} as const;

async function stages(
  run: (code: string) => Promise<Meter>,
  messages: Message[],
  kind: "imu" | "env",
): Promise<StageFigures> {
  const n = SIZES[kind].capture;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  // Capture alone.
  await run(`__dev.captureStage("${kind}", ${n})`); // warm up
  const l1 = await run("gc()");
  const c1 = await run(`__dev.captureStage("${kind}", ${n})`);
  const l2 = await run("gc()");
  const c2 = await run(`__dev.captureStage("${kind}", ${2 * n})`);
  const capture = (c2.compute - c1.compute) / n;
  const captureSlots = (c2.heap - l2.heap - (c1.heap - l1.heap)) / n;
  // Capture into the real store: the store's share is metered inside.
  await run(`__dev.storeStage("${kind}", ${n})`);
  const m1 = await run("gc()");
  const s1 = await run(`__dev.storeStage("${kind}", ${n})`);
  const st1 = last(messages, "store");
  const m2 = await run("gc()");
  const s2 = await run(`__dev.storeStage("${kind}", ${2 * n})`);
  const st2 = last(messages, "store");
  const store =
    ((st2.computrons as number) - (st1.computrons as number)) /
    ((st2.readings as number) - (st1.readings as number));
  const storeSlots = (s2.heap - m2.heap - (s1.heap - m1.heap)) / n;
  // Sync: N and 2N readings pending, one syncNow each.
  const ns = SIZES[kind].sync;
  await run(`__dev.syncPrepare("${kind}", ${ns}, "a")`);
  await run(`__dev.syncPrepare("${kind}", ${2 * ns}, "b")`);
  const y0 = await run("gc()");
  const ya = await run(`__dev.syncRun("a")`);
  await run(`__dev.syncReport("a")`);
  const ra = last(messages, "sync");
  const y1 = await run("gc()");
  const yb = await run(`__dev.syncRun("b")`);
  await run(`__dev.syncReport("b")`);
  const rb = last(messages, "sync");
  for (const x of [ra, rb])
    if (x.synced !== x.readings) throw new Error(`sync bench: synced ${x.synced} of ${x.readings}`);
  const dReadings = (rb.readings as number) - (ra.readings as number);
  const sync = (yb.compute - ya.compute) / dReadings;
  const syncSlots = (yb.heap - y1.heap - (ya.heap - y0.heap)) / dReadings;
  return {
    computronsPerReadingCapture: r(capture),
    computronsPerReadingStore: r(store),
    computronsPerReadingSync: r(sync),
    computronsPerReadingTotal: r(capture + store + sync),
    slotsPerReadingCapture: r(captureSlots),
    slotsPerReadingCaptureStore: r(storeSlots),
    slotsPerReadingSync: r(syncSlots),
    syncRequestsPer1000Readings: r(((rb.requests as number) * 1000) / (rb.readings as number)),
  };
}

/** Allocation per reading of each hot-path stage (for the test), and of a control that leaks one object per reading. */
export async function measureAllocations(): Promise<{
  imu: StageFigures;
  env: StageFigures;
  controlSlotsPerReading: number;
}> {
  return withWorker(async (run, messages) => {
    const imu = await stages(run, messages, "imu");
    const env = await stages(run, messages, "env");
    const n = SIZES.imu.capture;
    await run(`__dev.captureStage("imu", ${n}, true)`);
    const l1 = await run("gc()");
    const c1 = await run(`__dev.captureStage("imu", ${n}, true)`);
    const l2 = await run("gc()");
    const c2 = await run(`__dev.captureStage("imu", ${2 * n}, true)`);
    const controlSlotsPerReading = (c2.heap - l2.heap - (c1.heap - l1.heap)) / n;
    return { imu, env, controlSlotsPerReading };
  });
}

/** The 3-axis stages alone, with the device's CRC (a quick look while working on the hot path). */
export async function measureImu(): Promise<StageFigures> {
  return withWorker(async (run, messages) => {
    await run("__dev.nativeCrc(true)");
    return stages(run, messages, "imu");
  });
}

export async function measureDevice(): Promise<DeviceFigures> {
  const js = await withWorker(async (run, messages) => ({
    imu: await stages(run, messages, "imu"),
    env: await stages(run, messages, "env"),
  }));
  return withWorker(async (run, messages) => {
    await run("__dev.nativeCrc(true)");
    const imu = await stages(run, messages, "imu");
    const env = await stages(run, messages, "env");

    // Boot on a full 1 MiB partition: everything the data manager does before capture starts.
    await run("__dev.bootFill()");
    const fill = last(messages, "fill");
    await run("gc()");
    const boot = await run("__dev.bootOpen()");
    await run("__dev.bootReport()");
    const bootReport = last(messages, "boot");

    const h = await exampleHour();
    return {
      imu3Axis200Hz: imu,
      readings4At1Hz: env,
      imu3Axis200HzJsCrc: js.imu,
      readings4At1HzJsCrc: js.env,
      peakLiveHeapSlotsExampleHour: h.peakLiveSlots,
      hourCaptured: h.captured,
      hourSynced: h.synced,
      hourRequests: h.requests,
      hourPending: h.pending,
      peakChunkBytesSync: h.peakSyncBufferBytes,
      bootFlashBytesReadFull1MiB: bootReport.bytesRead as number,
      bootComputronsFull1MiB: boot.compute,
      bootPendingReadings: fill.pendingReadings as number,
    };
  });
}

/**
 * An hour of the example config (imu 200 Hz, env 1 Hz, analog 10 Hz; sync every 6 s) in a worker of its
 * own, with a 10-minute cloud outage from minute 20. Live heap slots are sampled after a collection once
 * a simulated minute and whenever a request is in flight (the cloud holds each request until the Node side
 * releases it). Reported above the loaded program (the worker's live slots before the data manager exists;
 * on a device the preloaded modules live in flash, not in the heap).
 */
async function exampleHour(): Promise<{
  peakLiveSlots: number;
  captured: number;
  synced: number;
  pending: number;
  requests: number;
  peakSyncBufferBytes: number;
}> {
  return withWorker(async (run, messages) => {
    const start = await run("gc()");
    const program = start.heap - start.cranks;
    await run("__dev.hourStart()");
    let peak = 0;
    const sample = async () => {
      const m = await run("gc()");
      const live = m.heap - m.cranks;
      if (live > peak) peak = live;
    };
    for (let second = 0; second < 3600; second++) {
      await run(`__dev.hourStep(${second}, 1200, 1800)`);
      if (second % 60 === 0) await sample();
      // While a request is held in flight: sample, release, repeat (the round may send the next one).
      while ((await pendingRequests(run, messages)) > 0) {
        await sample();
        await run("__dev.hourRelease()");
      }
    }
    await sample();
    await run("__dev.hourReport()");
    const h = last(messages, "hour");
    return {
      peakLiveSlots: peak - program,
      captured: h.captured as number,
      synced: h.synced as number,
      pending: h.pending as number,
      requests: h.requests as number,
      peakSyncBufferBytes: h.peakSyncBufferBytes as number,
    };
  });
}

async function pendingRequests(run: (code: string) => Promise<Meter>, messages: Message[]): Promise<number> {
  await run(`__dev.sendPending()`);
  return last(messages, "pending").count as number;
}

interface ProfileRow {
  label: string;
  calls: number;
  self: number;
  total: number;
}

/**
 * Where a reading's computrons go, per method (bench/xs/device-profile.ts): one table per stage and
 * kind, rows sorted by self computrons per reading. Approximate (probes are calibrated out, not absent).
 */
export async function profileDevice(): Promise<string> {
  return withWorker(async (run, messages) => {
    const out: string[] = [];
    const table = (m: Message, readings: number) => {
      const rows = (m.rows as unknown as ProfileRow[]).slice(0, 25);
      const self = (m.rows as unknown as ProfileRow[]).reduce(
        (n, r) => n + r.self * (m.readings as number),
        0,
      );
      out.push(
        `\n### ${m.stage} (per reading; ${readings} readings; probe cost ${(+m.innerCost).toFixed(1)}/${(+m.outerCost).toFixed(1)})`,
      );
      out.push(`sum of self computrons of probed methods: ${(self / readings).toFixed(0)} per reading`);
      out.push("| method | calls | self | inclusive |");
      out.push("|---|---:|---:|---:|");
      const k = (m.readings as number) / readings;
      for (const r of rows)
        out.push(
          `| ${r.label} | ${(r.calls * k).toFixed(2)} | ${(r.self * k).toFixed(0)} | ${(r.total * k).toFixed(0)} |`,
        );
    };
    // As on the device: CRC-32 in the ROM (the JavaScript CRC's own cost: the crc32Update table below).
    await run("__dev.nativeCrc(true)");
    for (const kind of ["imu", "env"] as const) {
      const n = SIZES[kind].capture;
      await run(`__prof.profile("capture", "${kind}", ${n})`);
      table(last(messages, "profile"), n);
      await run(`__prof.profile("store", "${kind}", ${n})`);
      table(last(messages, "profile"), n);
      await run(`__prof.profileSync("${kind}", ${SIZES[kind].sync})`);
      const synced = last(messages, "sync").readings as number;
      table(last(messages, "profile"), synced);
    }
    await run("__prof.crcCost()");
    out.push("\n### crc32Update (JavaScript path)");
    out.push("| bytes | computrons | per byte |");
    out.push("|---:|---:|---:|");
    for (const r of last(messages, "crc").rows as unknown as { bytes: number; computrons: number }[])
      out.push(`| ${r.bytes} | ${r.computrons} | ${(r.computrons / r.bytes).toFixed(2)} |`);
    return out.join("\n");
  }, "bench/xs/device-profile.ts");
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const mode = process.argv[2];
  if (mode === "alloc") console.log(JSON.stringify(await measureAllocations()));
  else if (mode === "profile") console.log(await profileDevice());
  else if (mode === "imu") console.log(JSON.stringify(await measureImu()));
  else console.log(JSON.stringify(await measureDevice()));
}
