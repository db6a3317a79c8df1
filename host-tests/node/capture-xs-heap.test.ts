// Inside the real XS engine: the capture hot path (sample a simulated sensor, encode, append to the RAM
// batch, flush full batches) allocates nothing at all, and the transcoder sync uses (stored block →
// SensorData bytes) nothing per reading, so the stop-the-world collector never has to run more often
// as the reading count grows. The transcoder makes one DataView per stored record that holds raw
// doubles (a record is ~30 readings of the 3-axis sensor): ~0.1 slot per reading, where one object
// per reading would be 3 or more. Measured with xsnap's meter: live heap slots after gc() and
// n readings, for n = 2k, 20k, 200k. Controls prove the instrument sees allocation when there is some.
// The XS worker needs SES lockdown, so it runs in its own process (bench/xs/capture-worker.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

interface HeapPoint {
  what: string;
  n: number;
  heapCount: number;
  allocate: number;
}

test("XS: capture and its transcoder allocate nothing per reading (heap slots flat from 2k to 200k readings)", () => {
  const run = spawnSync(process.execPath, ["--import", "tsx", "bench/xs/capture-worker.ts", "heap"], {
    cwd: root,
    encoding: "utf8",
    // A bound for a hung worker, not a speed check: on a loaded 2-core machine the run takes minutes.
    timeout: 900_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const points = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as HeapPoint[];
  const series = (what: string) => points.filter((p) => p.what === what);
  for (const what of ["capture-vector", "capture-readings", "transcode-vector", "transcode-readings"]) {
    const s = series(what);
    assert.equal(s.length, 3);
    const growth = s.at(-1)!.heapCount - s[0]!.heapCount;
    const readings = s.at(-1)!.n - s[0]!.n;
    // 198,000 more readings: a single slot per reading would add ~198,000 (or force collections).
    const bound = what.startsWith("capture") ? 16 : 16 + 0.2 * readings;
    assert.ok(growth <= bound, `${what}: heap grew by ${growth} slots over ${readings} more readings`);
    assert.equal(s.at(-1)!.allocate, s[0]!.allocate, `${what}: the engine reserved more memory`);
  }
  const objects = series("control-objects");
  assert.ok(objects[1]!.heapCount - objects[0]!.heapCount >= 500, "control: 500 more objects are visible");
  const protobufEs = series("control-protobuf-es");
  assert.ok(
    protobufEs[1]!.heapCount - protobufEs[0]!.heapCount >= 200 * 10,
    "control: protobuf-es allocates per reading",
  );
});
