// `npm run bench -- device`: what capsync costs an ESP32, in deterministic XS figures (computrons and
// heap slots from @agoric/xsnap's meter; flash bytes counted at the flash port), measured twice in fresh
// XS workers and checked identical, printed beside the baseline of bench/device-baseline.json (the code
// before the ESP32 budget work). ESP32 rates are derived from the computrons with one calibration
// constant (docs/device-budget.md says how it was chosen). Last line: BENCH {"key":"device",...}.
import * as fs from "node:fs";
import * as path from "node:path";
import { type DeviceFigures, measureDevice } from "./xs/device-worker";

/**
 * XS computrons an ESP32 (240 MHz Xtensa LX6, no PSRAM) executes per second. This host's XS runs
 * capsync's capture and store code at 59-67 M computrons/s; ESP32 native code is ~60x slower than such
 * a host (CoreMark 495 vs ~30k) and interpreted code, whose bytecode and data miss the 32 KB flash cache
 * more often, plausibly up to ~150x: 0.42-1.1 M/s. We take 0.5 M/s, near the slow end, so the rates
 * below are what an ESP32 should at least reach. docs/device-budget.md has the derivation.
 */
export const ESP32_COMPUTRONS_PER_SECOND = 500_000;
/** Share of the XS core capsync may use for steady work (the rest: GC, TLS records, timers, slack). */
export const ESP32_CPU_SHARE = 0.5;

const root = path.resolve(import.meta.dirname, "..");

function derive(f: DeviceFigures) {
  const imu = f.imu3Axis200Hz;
  const env = f.readings4At1Hz;
  const R = ESP32_COMPUTRONS_PER_SECOND;
  const budget = ESP32_CPU_SHARE * R;
  return {
    computronsPerReadingCapture3Axis: imu.computronsPerReadingCapture,
    computronsPerReadingStore3Axis: imu.computronsPerReadingStore,
    computronsPerReadingSync3Axis: imu.computronsPerReadingSync,
    computronsPerReadingTotal3Axis: imu.computronsPerReadingTotal,
    slotsPerReadingCapture3Axis: imu.slotsPerReadingCapture,
    slotsPerReadingCaptureStore3Axis: imu.slotsPerReadingCaptureStore,
    slotsPerReadingSync3Axis: imu.slotsPerReadingSync,
    computronsPerReadingCaptureReadings4: env.computronsPerReadingCapture,
    computronsPerReadingStoreReadings4: env.computronsPerReadingStore,
    computronsPerReadingSyncReadings4: env.computronsPerReadingSync,
    computronsPerReadingTotalReadings4: env.computronsPerReadingTotal,
    slotsPerReadingCaptureReadings4: env.slotsPerReadingCapture,
    slotsPerReadingCaptureStoreReadings4: env.slotsPerReadingCaptureStore,
    slotsPerReadingSyncReadings4: env.slotsPerReadingSync,
    peakLiveHeapSlotsExampleHour: f.peakLiveHeapSlotsExampleHour,
    peakChunkBytesSync: f.peakChunkBytesSync,
    bootFlashBytesReadFull1MiB: f.bootFlashBytesReadFull1MiB,
    bootComputronsFull1MiB: f.bootComputronsFull1MiB,
    computronsPerReadingStore3AxisJsCrc: f.imu3Axis200HzJsCrc.computronsPerReadingStore,
    computronsPerReadingSync3AxisJsCrc: f.imu3Axis200HzJsCrc.computronsPerReadingSync,
    computronsPerReadingTotal3AxisJsCrc: f.imu3Axis200HzJsCrc.computronsPerReadingTotal,
    computronsPerReadingTotalReadings4JsCrc: f.readings4At1HzJsCrc.computronsPerReadingTotal,
    /** Readings per second one ESP32 core can capture, store and upload (3-axis), all of its XS time. */
    esp32ReadingsPerSecondEndToEnd: Math.floor(R / imu.computronsPerReadingTotal),
    /** Largest aggregate 3-axis rate whose capture + store stay within ESP32_CPU_SHARE of the core. */
    esp32MaxHzCaptureOnly3Axis: Math.floor(
      budget / (imu.computronsPerReadingCapture + imu.computronsPerReadingStore),
    ),
    /** The same with continuous sync (every reading also read back, transcoded and encoded). */
    maxSustainedHzEsp32: Math.floor(budget / imu.computronsPerReadingTotal),
    esp32BootSecondsFull1MiB: +(f.bootComputronsFull1MiB / R).toFixed(2),
  };
}

type Figures = ReturnType<typeof derive>;

const first = await measureDevice();
const second = await measureDevice();
const a = derive(first);
const b = derive(second);
const mismatched = (Object.keys(a) as (keyof Figures)[]).filter((k) => a[k] !== b[k]);

const baselinePath = path.join(root, "bench/device-baseline.json");
const baseline: Partial<Figures> = fs.existsSync(baselinePath)
  ? (JSON.parse(fs.readFileSync(baselinePath, "utf8")).figures as Partial<Figures>)
  : {};

console.log("device cost in XS (deterministic: computrons and heap slots from xsnap's meter)");
console.log(
  `ESP32 rates assume ${ESP32_COMPUTRONS_PER_SECOND.toLocaleString("en")} computrons/s and a ${ESP32_CPU_SHARE * 100}% CPU share (docs/device-budget.md)`,
);
console.log("| figure | baseline | now | run 2 | now / baseline |");
console.log("|---|---:|---:|---:|---:|");
for (const k of Object.keys(a) as (keyof Figures)[]) {
  const base = baseline[k];
  const ratio = typeof base === "number" && base !== 0 ? `${(a[k] / base).toFixed(2)}` : "";
  console.log(`| ${k} | ${base ?? ""} | ${a[k]} | ${b[k]} | ${ratio} |`);
}
console.log(
  `\nhour of the example config: ${first.hourCaptured} readings captured, ${first.hourSynced} synced, ${first.hourPending} pending at the end, ${first.hourRequests} requests; boot census of ${first.bootPendingReadings} pending readings`,
);
// Issue 10's CPU targets: total per 3-axis reading at most 1/4 of the baseline's, sync not the largest stage.
const totalTarget =
  typeof baseline.computronsPerReadingTotal3Axis === "number"
    ? Math.round(baseline.computronsPerReadingTotal3Axis / 4)
    : Number.NaN;
const syncDominant =
  a.computronsPerReadingSync3Axis > a.computronsPerReadingCapture3Axis &&
  a.computronsPerReadingSync3Axis > a.computronsPerReadingStore3Axis;
const targets = {
  total3AxisAtMost: totalTarget,
  total3AxisMet: a.computronsPerReadingTotal3Axis <= totalTarget,
  syncDominant3Axis: syncDominant,
};
console.log(
  `targets: total ${a.computronsPerReadingTotal3Axis} ≤ ${totalTarget} per 3-axis reading: ${targets.total3AxisMet ? "met" : "not met"}; sync the largest stage: ${syncDominant ? "yes (not met)" : "no (met)"}`,
);
if (mismatched.length > 0) {
  console.error(`device bench: runs disagree on ${mismatched.join(", ")}`);
  process.exitCode = 1;
} else console.log("both runs identical: yes");

console.log(
  `BENCH ${JSON.stringify({
    key: "device",
    figures: {
      ...a,
      identicalRuns: mismatched.length === 0,
      esp32ComputronsPerSecond: ESP32_COMPUTRONS_PER_SECOND,
      esp32CpuShare: ESP32_CPU_SHARE,
      baseline,
      targets,
    },
  })}`,
);
