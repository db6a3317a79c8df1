// The example machine configs in examples/ are valid, and the desktop one captures with the simulated models.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { Capture } from "../../modules/capture/capture";
import { simulatedModels } from "../../modules/capture/simulated";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { silentLogger } from "../../modules/ports";
import { MemoryStore } from "../support/memory-store";
import { CaptureRig } from "../support/sensors-rig";

const root = path.resolve(import.meta.dirname, "../..");
const load = (name: string) => JSON.parse(fs.readFileSync(path.join(root, "examples", name), "utf8"));

test("examples: every machine config parses with no issue", () => {
  for (const name of fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".json"))) {
    const settings = parseMachineConfig(load(name));
    assert.deepEqual(settings.issues, [], name);
    assert.ok(settings.collectors.length >= 3, name);
  }
});

test("examples: the desktop config (IMU 200 Hz, temperature 1 Hz, board analog 10 Hz) captures", () => {
  const clock = CaptureRig.validClock();
  const capture = new Capture({
    store: new MemoryStore(),
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
  });
  const issues = capture.apply(parseMachineConfig(load("machine-config.json")));
  assert.deepEqual(issues, []);
  clock.advance(10_000);
  const byMethod = Object.fromEntries(capture.stats().map((s) => [s.method, s]));
  assert.equal(byMethod.AngularVelocity!.captured, 2001);
  assert.equal(byMethod.Readings!.captured, 11);
  assert.equal(byMethod.Analogs!.captured, 101);
  for (const s of capture.stats()) assert.equal(s.missedDeadlines + s.sensorErrors, 0);
});
