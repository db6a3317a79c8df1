/*
 * Node side of the capture measurements inside the XS engine (@agoric/xsnap):
 * bundles bench/xs/capture-hot-path.ts, evaluates it in one worker, then
 * calls into it one `evaluate` at a time so the worker's meter — its live
 * heap slot count and allocated space — can be read between calls.
 *
 * Loads @endo/init (SES lockdown), so it runs in its own process:
 *   node --import tsx bench/xs/capture-worker.ts heap    → one JSON line: heap growth per reading count
 *   node --import tsx bench/xs/capture-worker.ts bench   → one JSON line: the benchmark figures
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

export interface HeapPoint {
  what: string;
  n: number;
  /** Live heap slots right after the run (a gc() ran just before it). */
  heapCount: number;
  /** Bytes the engine has reserved from the OS (grows when the heap or chunk space grows). */
  allocate: number;
}

let tmpCounter = 0;
const tmpName = (_opts: unknown, cb: (e: null, name: string) => void) =>
  cb(null, path.join(os.tmpdir(), `capsync-capture-xs-${process.pid}-${tmpCounter++}`));

interface Usage {
  heapCount: number;
  allocate: number;
  /** XS computrons of the evaluate (deterministic). */
  compute: number;
}

async function withWorker<T>(
  body: (run: (code: string) => Promise<Usage>) => Promise<T>,
  onMessage: (message: Record<string, unknown>) => void = () => {},
  entry = "bench/xs/capture-hot-path.ts",
): Promise<T> {
  const decoder = new TextDecoder();
  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fsp, ...fs, tmpName },
    name: "capsync-capture-xs",
    meteringLimit: 0,
    stdout: "inherit",
    stderr: "inherit",
    handleCommand: async (bytes: Uint8Array) => {
      onMessage(JSON.parse(decoder.decode(bytes)));
      return new Uint8Array(0);
    },
  } as never);
  try {
    const script = await bundle(path.join(root, entry));
    await worker.evaluate(`globalThis.console = { log: (...a) => print(a.join(" ")) }; ${script}`);
    return await body(async (code) => {
      const result = await worker.evaluate(code);
      const usage = result.meterUsage as { currentHeapCount: number; allocate: number; compute: number };
      return { heapCount: usage.currentHeapCount, allocate: usage.allocate, compute: usage.compute };
    });
  } finally {
    await worker.close().catch(() => {});
  }
}

/** Heap slots after gc() + n readings, for growing n, for capture and for controls. */
export async function measureHeap(): Promise<HeapPoint[]> {
  return withWorker(async (run) => {
    const points: HeapPoint[] = [];
    const measure = async (what: string, n: number, call: string) => {
      const r = await run(`gc(); ${call};`);
      points.push({ what, n, ...r });
    };
    // Warm up: first calls build the captures and the protobuf-es registries.
    await run(
      `__captureRun("vector", 5000); __captureRun("readings", 5000); __protobufEsRun("vector", 100);`,
    );
    for (const n of [2_000, 20_000, 200_000])
      await measure("capture-vector", n, `__captureRun("vector", ${n})`);
    for (const n of [2_000, 20_000, 200_000])
      await measure("capture-readings", n, `__captureRun("readings", ${n})`);
    await run(`__transcodeRun("vector", 100); __transcodeRun("readings", 100);`);
    for (const n of [2_000, 20_000, 200_000])
      await measure("transcode-vector", n, `__transcodeRun("vector", ${n})`);
    for (const n of [2_000, 20_000, 200_000])
      await measure("transcode-readings", n, `__transcodeRun("readings", ${n})`);
    for (const n of [500, 1_000]) await measure("control-objects", n, `__objectsRun(${n})`);
    for (const n of [200, 400]) await measure("control-protobuf-es", n, `__protobufEsRun("vector", ${n})`);
    return points;
  });
}

export async function runBench(): Promise<Record<string, unknown>> {
  let figures: Record<string, unknown> | undefined;
  await withWorker(
    async (run) => {
      await run("__captureBench();");
    },
    (message) => {
      if (message.kind === "bench") figures = message;
    },
  );
  if (!figures) throw new Error("the XS bench sent no figures");
  return figures;
}

export interface StageCost {
  /** XS computrons per reading of each stage, and their sum. */
  capture: number;
  store: number;
  sync: number;
  total: number;
  /** Of sync: reading the records back from flash (CRC checks included); the rest is transcoding. */
  syncRead: number;
}

/** Computrons per reading of capture, store and sync for one signal of capture-signals.ts. */
export async function measureCost(signal: string): Promise<StageCost> {
  let readings = 0;
  return withWorker(
    async (run) => {
      await run(`__costPrepare(${JSON.stringify(signal)})`);
      const noop = (await run("__costNoop(); __report()")).compute;
      const stage = async (name: string) => {
        const r = await run(`__costRun(${JSON.stringify(name)}); __report()`);
        return { compute: (r.compute - noop) / readings };
      };
      // Once to warm every path, then measured.
      await run(`__costRun("capture")`);
      const capture = await stage("capture");
      const store = await stage("store");
      const read = await stage("read");
      const sync = await stage("sync");
      const round = (x: number) => Math.round(x);
      return {
        capture: round(capture.compute),
        store: round(store.compute),
        sync: round(sync.compute),
        total: round(capture.compute + store.compute + sync.compute),
        syncRead: round(read.compute),
      };
    },
    (message) => {
      if (typeof message.readings === "number") readings = message.readings;
    },
    "bench/xs/capture-cost.ts",
  );
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const mode = process.argv[2];
  if (mode === "heap") console.log(JSON.stringify(await measureHeap()));
  else if (mode === "bench") console.log(JSON.stringify(await runBench()));
  else if (mode === "cost") console.log(JSON.stringify(await measureCost(process.argv[3] ?? "imu200")));
  else {
    console.error("usage: node --import tsx bench/xs/capture-worker.ts heap|bench|cost [imu200|env|adc]");
    process.exitCode = 2;
  }
}
