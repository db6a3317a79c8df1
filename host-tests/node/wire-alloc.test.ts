// The capture hot path (beginSensorData + StructWriter + endSensorData) allocates nothing per
// reading inside XS: live XS heap slots are counted by xsnap's meter around 5000 readings, next
// to a control that allocates one small object per reading (2 slots).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

test("SensorData hot path: no XS heap slots per reading (control: 2)", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "bench/xs/wire-alloc.ts"], {
    cwd: root,
    encoding: "utf8",
  });
  const r = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.ok(r.controlSlotsPerReading >= 1.9, `the detector sees the control's allocation: ${out}`);
  assert.ok(r.hotSlotsPerReading < 0.01, `hot path left ${r.hotSlotsPerReading} slots per reading`);
});
