// The capture hot path (beginSensorData + StructWriter + endSensorData) allocates nothing per
// reading inside XS: live XS heap slots are counted by xsnap's meter around 5000 readings, next
// to a control that allocates one small object per reading (2 slots). The same for string fields.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

let measured: { hotSlotsPerReading: number; controlSlotsPerReading: number; stringSlotsPerCall: number };
const measure = () => {
  measured ??= JSON.parse(
    execFileSync(process.execPath, ["--import", "tsx", "bench/xs/wire-alloc.ts"], {
      cwd: root,
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .at(-1)!,
  );
  return measured;
};

test("SensorData hot path: no XS heap slots per reading (control: 2)", () => {
  const r = measure();
  assert.ok(
    r.controlSlotsPerReading >= 1.9,
    `the detector sees the control's allocation: ${JSON.stringify(r)}`,
  );
  assert.ok(r.hotSlotsPerReading < 0.01, `hot path left ${r.hotSlotsPerReading} slots per reading`);
});

// XS allocates a String wrapper (2 slots) for each `s.length` or `s.charCodeAt(i)` on a
// primitive string; ProtoWriter.string, utf8Length and writeUtf8 must not, for ASCII and
// non-ASCII text alike (before they walked strings that way: ~56 slots per call here).
test("string fields, utf8Length, writeUtf8: no XS heap slots per call", () => {
  const r = measure();
  assert.ok(r.stringSlotsPerCall < 0.05, `string encoding left ${r.stringSlotsPerCall} slots per call`);
});
