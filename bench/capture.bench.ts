// `npm run bench -- capture`: the capture hot path inside the XS engine, against protobuf-es doing the
// same work the obvious way, in the same run; on-flash bytes against SensorData bytes; flash bytes and XS
// computrons per reading of three realistic signals. The sustainable rate on an ESP32 is derived from
// computrons in the `device` key (maxSustainedHzEsp32), not measured against this machine's clock.
// Last line: BENCH {"key":"capture",...}.
import * as fs from "node:fs";
import * as path from "node:path";
import { flashFigures } from "./xs/capture-signals";
import { measureCost, runBench, type StageCost } from "./xs/capture-worker";

interface Sizes {
  flash: number;
  sensorData: number;
  readings: number;
}

const f = (await runBench()) as {
  xsNsPerReading: number;
  protobufEsXsNsPerReading: number;
  xsNsPerReadingReadings: number;
  protobufEsXsNsPerReadingReadings: number;
  vectorSizes: Sizes;
  readingsSizes: Sizes;
};

const figures = {
  xsNsPerReading: Math.round(f.xsNsPerReading),
  protobufEsXsNsPerReading: Math.round(f.protobufEsXsNsPerReading),
  ratio: +(f.protobufEsXsNsPerReading / f.xsNsPerReading).toFixed(1),
  xsNsPerReadingReadings: Math.round(f.xsNsPerReadingReadings),
  protobufEsXsNsPerReadingReadings: Math.round(f.protobufEsXsNsPerReadingReadings),
  ratioReadings: +(f.protobufEsXsNsPerReadingReadings / f.xsNsPerReadingReadings).toFixed(1),
  flashBytesPerReading3Axis: +f.vectorSizes.flash.toFixed(1),
  sensorDataBytesPerReading3Axis: +f.vectorSizes.sensorData.toFixed(1),
  flashRatio3Axis: +(f.vectorSizes.flash / f.vectorSizes.sensorData).toFixed(2),
  flashBytesPerReadingReadings4: +f.readingsSizes.flash.toFixed(1),
  sensorDataBytesPerReadingReadings4: +f.readingsSizes.sensorData.toFixed(1),
  flashRatioReadings4: +(f.readingsSizes.flash / f.readingsSizes.sensorData).toFixed(2),
};

const rows: [string, string, string, string][] = [
  [
    "3-axis (AngularVelocity)",
    `${figures.xsNsPerReading}`,
    `${figures.protobufEsXsNsPerReading}`,
    `${figures.ratio}x`,
  ],
  [
    "4-field Readings map",
    `${figures.xsNsPerReadingReadings}`,
    `${figures.protobufEsXsNsPerReadingReadings}`,
    `${figures.ratioReadings}x`,
  ],
];
console.log("capture hot path in XS (ns per reading: sample simulated sensor, encode, append to RAM batch)");
console.log("| reading | capsync | protobuf-es SensorData + toBinary | ratio |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(
  "\nbytes per reading (flash: ring store on emulated NOR, framing included; SensorData: message bytes)",
);
console.log("| reading | flash | SensorData | flash / SensorData |");
console.log("|---|---:|---:|---:|");
console.log(
  `| 3-axis | ${figures.flashBytesPerReading3Axis} | ${figures.sensorDataBytesPerReading3Axis} | ${figures.flashRatio3Axis} |`,
);
console.log(
  `| 4-field Readings | ${figures.flashBytesPerReadingReadings4} | ${figures.sensorDataBytesPerReadingReadings4} | ${figures.flashRatioReadings4} |`,
);
console.log(
  "\nsustainable rates on an ESP32: `npm run bench -- device` (maxSustainedHzEsp32, from computrons)",
);
// Issue 13: flash bytes per reading of three realistic signals (bench/xs/capture-signals.ts), real ring
// store on the NOR emulation, framing included; and XS computrons per reading by stage (deterministic).
const baseline = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, "capture-baseline.json"), "utf8"),
) as { flash: Record<string, number>; computronsPerReading: Record<string, StageCost> };
const flash = flashFigures();
const cost: Record<string, StageCost> = {};
for (const signal of ["imu200", "env", "adc"]) cost[signal] = await measureCost(signal);
const again = await measureCost("imu200");
if (JSON.stringify(again) !== JSON.stringify(cost.imu200)) {
  throw new Error(
    `computrons differ between two runs: ${JSON.stringify(again)} ${JSON.stringify(cost.imu200)}`,
  );
}
const format2 = {
  ...flash,
  computronsPerReadingImu200Hz: cost.imu200!,
  computronsPerReadingReadings4At1Hz: cost.env!,
  computronsPerReadingAnalog10Hz: cost.adc!,
  baseline: baseline,
};
console.log(
  "\nflash bytes per reading, framing included (bench/xs/capture-signals.ts) — format 1 (0.1) → now",
);
console.log("| stream | 0.1 | now | target |");
console.log("|---|---:|---:|---:|");
const row = (label: string, key: string, target: string) =>
  console.log(
    `| ${label} | ${baseline.flash[key]} | ${(flash as Record<string, number>)[key]} | ${target} |`,
  );
row("3-axis IMU (MPU-6050 gyro counts), 200 Hz", "flashBytesPerReadingImu200Hz", "≤ 6");
row("4-field Readings (BME280-like), 1 Hz, 5 s flush", "flashBytesPerReadingReadings4At1Hz", "≤ 12");
row("12-bit analog, 10 Hz", "flashBytesPerReadingAnalog10Hz", "≤ 3");
row("flash life, 1 MiB at 100 Hz 3-axis (years)", "flashLifeYears1MiB100HzImu", "≥ 4");
row("offline buffer, 1 MiB at 100 Hz 3-axis (hours)", "offlineHours1MiB100HzImu", "");
console.log("\nXS computrons per reading (deterministic; run twice, identical) — 0.1 → now");
console.log("| stream | capture | store | sync | total |");
console.log("|---|---:|---:|---:|---:|");
for (const [label, key] of [
  ["3-axis IMU 200 Hz", "imu200"],
  ["4-field Readings 1 Hz", "env"],
  ["analog 10 Hz", "adc"],
] as const) {
  const b = baseline.computronsPerReading[key]!;
  const c = cost[key]!;
  console.log(
    `| ${label} | ${b.capture} → ${c.capture} | ${b.store} → ${c.store} | ${b.sync} → ${c.sync} | ${b.total} → ${c.total} |`,
  );
}
console.log(`BENCH ${JSON.stringify({ key: "capture", figures: { ...figures, ...format2 } })}`);
