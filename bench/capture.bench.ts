// `npm run bench -- capture`: the capture hot path inside the XS engine, against protobuf-es doing the
// same work the obvious way, in the same run; on-flash bytes against SensorData bytes. The sustainable
// rate on an ESP32 is derived from computrons in the `device` key (maxSustainedHzEsp32), not measured
// against this machine's clock. Last line: BENCH {"key":"capture",...}.
import { runBench } from "./xs/capture-worker";

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
console.log(`BENCH ${JSON.stringify({ key: "capture", figures })}`);
