// The web page's plot math, run exactly as the page ships it: the
// <plot-math> block of tools/web/page.html is evaluated here (no browser
// needed). Lines break at gaps (outages, reboots), the recent rate ignores
// time before the last gap, and axes carry the units of Viam's payloads.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const html = fs.readFileSync(path.resolve(import.meta.dirname, "../../tools/web/page.html"), "utf8");
const block = /\/\/ <plot-math>[^\n]*\n([\s\S]*?)\/\/ <\/plot-math>/.exec(html)?.[1];
assert.ok(block, "page.html has its <plot-math> block");
const math = new Function(`${block}; return { segmentsOf, recentRate, unitOf };`)() as {
  segmentsOf: (times: number[]) => [number, number][];
  recentRate: (times: number[]) => number | null;
  unitOf: (field: string) => string;
};

const every = (start: number, n: number, stepMs: number) =>
  Array.from({ length: n }, (_, i) => start + i * stepMs);

test("a steady stream is one segment; an outage or a reboot breaks the line there", () => {
  assert.deepEqual(math.segmentsOf(every(0, 100, 100)), [[0, 99]]);
  // 10 Hz, then 30 s without readings (network cut + reboot), then 10 Hz again.
  const times = [...every(0, 50, 100), ...every(4_900 + 30_000, 50, 100)];
  assert.deepEqual(math.segmentsOf(times), [
    [0, 49],
    [50, 99],
  ]);
  // Jitter and a slow 1 Hz stream are not gaps.
  assert.deepEqual(math.segmentsOf(every(0, 20, 1000)), [[0, 19]]);
  assert.deepEqual(math.segmentsOf([0, 90, 210, 300, 390, 520]), [[0, 5]]);
  assert.deepEqual(math.segmentsOf([]), []);
});

test("the recent rate is measured after the last gap, not across it", () => {
  // 200 Hz before and after a 60 s reboot: the whole window would say ~25 Hz.
  const times = [...every(0, 2000, 5), ...every(10_000 + 60_000, 1000, 5)];
  const whole = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
  assert.ok(whole < 60, `whole-window rate ${whole}`);
  assert.equal(Math.round(math.recentRate(times)!), 200);
  assert.equal(math.recentRate([1000]), null);
});

test("axis units come from Viam's payload fields", () => {
  assert.equal(math.unitOf("angular_velocity.x"), "°/s");
  assert.equal(math.unitOf("linear_acceleration.z"), "m/s²");
  assert.equal(math.unitOf("temperature_c"), "°C");
  assert.equal(math.unitOf("altitude_m"), "m");
  assert.equal(math.unitOf("value"), "");
});
