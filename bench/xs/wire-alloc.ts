// Does the SensorData hot path allocate per reading? Runs inside XS through xsnap directly
// (not xs-run.mjs) because the figure comes from xsnap's meter: `currentHeapCount`, the
// number of live XS slots, reported after every evaluate. Usage (its own process: @endo/init
// locks down globals):  node --import tsx bench/xs/wire-alloc.ts  → one JSON line.
import "@endo/init";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
// @ts-expect-error: the package ships no types
import { xsnap } from "@agoric/xsnap";
import * as esbuild from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");

// The code under test, bundled for XS: it defines globalThis.run(kind, n).
const entry = `
import { beginSensorData, endSensorData, StructWriter } from "./modules/proto/sensor_data";
import { ProtoWriter, utf8Length, writeUtf8 } from "./modules/proto/writer";
const w = new ProtoWriter(512);
const sw = new StructWriter(w);
const keep = [];
globalThis.run = (kind, n) => {
  for (let i = 0; i < n; i++) {
    w.reset();
    const m = beginSensorData(w, 1732000000000 + i, 1732000000002 + i);
    sw.beginObject("angular_velocity");
    sw.number("x", i * 0.5);
    sw.number("y", -i);
    sw.number("z", 1 / (i + 1));
    sw.endObject();
    endSensorData(w, m);
    // The control allocates one small object per reading, so the detector is shown to work.
    if (kind === "control") keep.push({ i });
  }
  return w.pos;
};
// String fields (the generic encoder's keys and values, upload metadata): ASCII, 2-, 3- and
// 4-byte UTF-8, a lone surrogate, one string past the 127-character fast path, and the
// utf8Length/writeUtf8 pair other modules size and encode text with.
const texts = ["temperature", "", "café", "温度 ☕", "\u{1F600} ok", "bad \uD800", "x".repeat(200), "é".repeat(70)];
const out = new Uint8Array(512);
let sink = 0;
// StructWriter keys it does not cache: a key longer than the cache takes, and (below) any
// key once its cache is full; both are written with ProtoWriter.string per reading.
const longKey = "k".repeat(120);
const full = new StructWriter(new ProtoWriter(512));
for (let i = 0; i < 64; i++) full.number("fill" + i, i);
globalThis.runStrings = (n) => {
  for (let i = 0; i < n; i++) {
    const s = texts[i % texts.length];
    w.reset();
    w.string(1, s);
    sink += utf8Length(s) + writeUtf8(s, out, 0);
    full.w.reset();
    full.number("not-cached", i);
    full.number(longKey, i);
  }
  return sink + w.pos;
};
`;

const bundled = await esbuild.build({
  stdin: { contents: entry, resolveDir: root, loader: "ts" },
  bundle: true,
  write: false,
  format: "iife",
  platform: "neutral",
  target: "es2022",
  logLevel: "silent",
});

let counter = 0;
const tmpName = (_o: unknown, cb: (e: null, p: string) => void) =>
  cb(null, path.join(os.tmpdir(), `capsync-alloc-${process.pid}-${counter++}`));
const worker = await xsnap({
  os: os.type(),
  spawn,
  fs: { ...fsp, ...fs, tmpName },
  name: "capsync-wire-alloc",
  meteringLimit: 0,
  stdout: "inherit",
  stderr: "inherit",
  handleCommand: async () => new Uint8Array(0),
});

type Meter = { currentHeapCount: number };
const heap = async (code: string) =>
  ((await worker.evaluate(code)) as { meterUsage: Meter }).meterUsage.currentHeapCount;

try {
  await worker.evaluate(bundled.outputFiles[0]!.text);
  const N = 5000;
  // Warm up (key cache, buffer growth), collect, then measure live slots around each run.
  await worker.evaluate("run('hot', 10); gc();");
  const before = await heap("gc();");
  const afterHot = await heap(`run('hot', ${N});`);
  await worker.evaluate("gc();");
  const beforeControl = await heap("gc();");
  const afterControl = await heap(`run('control', ${N});`);
  // Fewer calls for strings: before they were allocation-free, 5000 of them allocated enough
  // to set off a collection mid-run, which hides the slots from a before/after count.
  const S = 1000;
  await worker.evaluate("runStrings(16); gc();");
  const beforeStrings = await heap("gc();");
  const afterStrings = await heap(`runStrings(${S});`);
  console.log(
    JSON.stringify({
      readings: N,
      hotSlotsPerReading: (afterHot - before) / N,
      controlSlotsPerReading: (afterControl - beforeControl) / N,
      strings: S,
      stringSlotsPerCall: (afterStrings - beforeStrings) / S,
    }),
  );
} finally {
  await worker.close();
}
