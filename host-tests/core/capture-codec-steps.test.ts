// Format 2 chooses steps: declared by the driver, or detected (whole numbers, decimals); values that are
// no code at that step are kept exactly, escaped. These tests pin the sizes that make the format worth it.
import { BlockWriter } from "../../modules/capture/block-writer";
import { KIND_ANALOG, KIND_ANGULAR_VELOCITY } from "../../modules/capture/methods";
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

const WALL_US = 1.75e15;

/** Bytes per reading of `n` readings of `values(i)` in one writer (several blocks: the later ones adapt). */
function bytesPerReading(
  kind: number,
  n: number,
  value: (i: number, axis: number) => number,
  declare?: number,
) {
  const w = new BlockWriter(kind, 1000);
  if (declare) w.declareStep(declare, 0);
  const v = new Float64Array(3);
  const arity = kind === KIND_ANGULAR_VELOCITY ? 3 : 1;
  let bytes = 0;
  let readings = 0;
  const decoded: number[] = [];
  const transcoder = new SensorDataTranscoder({ offsetUs: () => 0 });
  const flush = () => {
    w.seal();
    bytes += w.ends[0]!;
    const out = new ProtoWriter(64);
    readings += transcoder.writeSensorData(w.bytes.slice(0, w.ends[0]), out, 2);
    decoded.push(out.finish().length);
    w.clear();
  };
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < arity; a++) v[a] = value(i, a);
    if (!w.fitsFixed(true, arity)) flush();
    assert.ok(w.appendFixed(true, 1, WALL_US + i * 5000, WALL_US + i * 5000, 0, v, arity));
  }
  flush();
  assert.equal(readings, n);
  return bytes / n;
}

test("steps: gyro counts / 131 take about a byte per axis when declared (headers included); raw doubles when not", () => {
  const rng = new Random(7);
  const counts = new Int16Array(3 * 2000);
  for (let i = 0; i < counts.length; i++)
    counts[i] = Math.round(2000 * Math.sin(i / 300) + (rng.float() - 0.5) * 20);
  const gyro = (i: number, a: number) => counts[i * 3 + a]! / 131;
  const declared = bytesPerReading(KIND_ANGULAR_VELOCITY, 2000, gyro, 131);
  const undeclared = bytesPerReading(KIND_ANGULAR_VELOCITY, 2000, gyro);
  assert.ok(declared < 5, `declared: ${declared} bytes per reading`);
  assert.ok(undeclared > 24, `not declared (no decimal step fits count / 131): ${undeclared}`);
});

test("steps: integers and decimals are detected; a mix of exact and noisy values stays exact and costs what it must", () => {
  const adc = bytesPerReading(KIND_ANALOG, 3000, (i) => 2048 + Math.round(500 * Math.sin(i / 100)));
  assert.ok(adc < 2, `12-bit codes: ${adc}`);
  const decimals = bytesPerReading(KIND_ANALOG, 3000, (i) => Math.round(2150 + 80 * Math.sin(i / 200)) / 100);
  assert.ok(decimals < 2, `two decimals: ${decimals}`);
  const noisy = bytesPerReading(KIND_ANALOG, 3000, (i) => Math.sin(i) * Math.PI);
  assert.ok(noisy > 8 && noisy < 9.5, `noisy doubles: ${noisy}`);
});
