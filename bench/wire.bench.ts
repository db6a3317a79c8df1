// `npm run bench -- wire`: the device's SensorData encoder against protobuf-es, both measured
// inside the XS engine in the same run (bench/xs/wire.ts), plus the bytes a
// DataCaptureUploadRequest adds on top of its SensorData. Prints a table, then the BENCH line.

import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { xsFigures } from "./xs-entry";

const root = path.resolve(import.meta.dirname, "..");
const xs = xsFigures<{
  bytesIdentical: boolean;
  encodeNsPerSensorDataXs: number;
  encodeGenericNsPerSensorDataXs: number;
  protobufEsNsPerSensorDataXs: number;
  protobufEsToBinaryNsPerSensorDataXs: number;
  avgSensorDataBytes: number;
  requestBytesPer1000Readings: number;
  requestOverheadBytesPer1000Readings: number;
  uploadRequestSizeUsPer1000ReadingsXs: number;
  configBytes: number;
  configDecodeUsXs: number;
  protobufEsConfigDecodeUsXs: number;
}>("bench/xs/wire.ts");
const alloc = JSON.parse(
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/xs/wire-alloc.ts")], {
    cwd: root,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .at(-1)!,
) as { hotSlotsPerReading: number; controlSlotsPerReading: number; stringSlotsPerCall: number };
if (!xs.bytesIdentical)
  throw new Error("device and protobuf-es bytes differ: the comparison would be meaningless");

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;
const figures = {
  encodeNsPerSensorDataXs: round(xs.encodeNsPerSensorDataXs),
  protobufEsNsPerSensorDataXs: round(xs.protobufEsNsPerSensorDataXs),
  speedupVsProtobufEs: round(xs.protobufEsNsPerSensorDataXs / xs.encodeNsPerSensorDataXs, 2),
  encodeGenericNsPerSensorDataXs: round(xs.encodeGenericNsPerSensorDataXs),
  protobufEsToBinaryNsPerSensorDataXs: round(xs.protobufEsToBinaryNsPerSensorDataXs),
  speedupVsProtobufEsToBinaryOnly: round(
    xs.protobufEsToBinaryNsPerSensorDataXs / xs.encodeNsPerSensorDataXs,
    2,
  ),
  avgSensorDataBytes: round(xs.avgSensorDataBytes, 1),
  requestOverheadBytesPer1000Readings: xs.requestOverheadBytesPer1000Readings,
  requestOverheadPercent: round(
    (100 * xs.requestOverheadBytesPer1000Readings) /
      (xs.requestBytesPer1000Readings - xs.requestOverheadBytesPer1000Readings),
    2,
  ),
  uploadRequestSizeUsPer1000ReadingsXs: round(xs.uploadRequestSizeUsPer1000ReadingsXs, 1),
  configBytes: xs.configBytes,
  configDecodeUsXs: round(xs.configDecodeUsXs, 1),
  protobufEsConfigDecodeUsXs: round(xs.protobufEsConfigDecodeUsXs, 1),
  heapSlotsPerSensorDataXs: round(alloc.hotSlotsPerReading, 3),
  heapSlotsPerStringFieldXs: round(alloc.stringSlotsPerCall, 3),
};

const rows: [string, string][] = [
  ["SensorData encode, device hot path (StructWriter), XS", `${figures.encodeNsPerSensorDataXs} ns`],
  ["SensorData encode, device from a plain object, XS", `${figures.encodeGenericNsPerSensorDataXs} ns`],
  ["SensorData create + toBinary, protobuf-es, XS", `${figures.protobufEsNsPerSensorDataXs} ns`],
  ["SensorData toBinary only, protobuf-es, XS", `${figures.protobufEsToBinaryNsPerSensorDataXs} ns`],
  ["speedup vs protobuf-es (create + toBinary)", `${figures.speedupVsProtobufEs}x`],
  ["speedup vs protobuf-es (toBinary only)", `${figures.speedupVsProtobufEsToBinaryOnly}x`],
  [
    "XS heap slots left allocated per reading, hot path (control: 1 object = 2)",
    `${figures.heapSlotsPerSensorDataXs} (control ${round(alloc.controlSlotsPerReading, 2)})`,
  ],
  [
    "XS heap slots per string field + utf8Length + writeUtf8 (ASCII and not)",
    `${figures.heapSlotsPerStringFieldXs}`,
  ],
  ["average SensorData size", `${figures.avgSensorDataBytes} B`],
  [
    "request overhead per 1000 readings (incl. 5 B frame header)",
    `${figures.requestOverheadBytesPer1000Readings} B (${figures.requestOverheadPercent}%)`,
  ],
  ["uploadRequestSize for 1000 readings, XS", `${figures.uploadRequestSizeUsPer1000ReadingsXs} µs`],
  [`ConfigResponse decode (${figures.configBytes} B), device, XS`, `${figures.configDecodeUsXs} µs`],
  [
    `ConfigResponse fromBinary (${figures.configBytes} B), protobuf-es, XS`,
    `${figures.protobufEsConfigDecodeUsXs} µs`,
  ],
];
console.log("wire — device codecs vs protobuf-es, inside XS (node scripts/xs-run.mjs bench/xs/wire.ts)");
for (const [name, value] of rows) console.log(`  ${name.padEnd(60)} ${value}`);
console.log(`BENCH ${JSON.stringify({ key: "wire", figures })}`);
