// XS lane (scripts/xs-lane.mjs runs host-tests/xs-metered/*.metered.ts): the capture hot path must not
// allocate per reading, in the real XS engine. Each stage runs N and 2N readings in an xsnap worker and
// its heap-slot meter gives the slots allocated per extra reading (bench/xs/device-worker.ts):
//   capture (sample + encode + RAM batch), capture + store append, sync (read + transcode + request encode).
// A per-reading allocation adds at least one slot per reading (an object, a closure, a String wrapper);
// with 3-axis blocks of many readings, per-batch, per-record and per-request costs stay far below that.
// A control that leaks one object per reading proves the instrument sees it. Prints `ok …`/`FAIL …`.
import { measureAllocations } from "../../bench/xs/device-worker";

const m = await measureAllocations();
let failed = 0;
function check(name: string, ok: boolean, detail: string): void {
  if (ok) console.log(`ok   ${name} (${detail})`);
  else {
    failed++;
    console.log(`FAIL ${name}: ${detail}`);
  }
}

check(
  "control: one object per reading is seen",
  m.controlSlotsPerReading >= 1,
  `${m.controlSlotsPerReading} slots/reading`,
);
check(
  "capture allocates nothing per reading (3-axis 200 Hz)",
  m.imu.slotsPerReadingCapture < 0.05,
  `${m.imu.slotsPerReadingCapture} slots/reading`,
);
check(
  "capture allocates nothing per reading (Readings map 1 Hz)",
  m.env.slotsPerReadingCapture < 0.05,
  `${m.env.slotsPerReadingCapture} slots/reading`,
);
check(
  "capture + store append: no per-reading allocation (3-axis)",
  m.imu.slotsPerReadingCaptureStore < 0.5,
  `${m.imu.slotsPerReadingCaptureStore} slots/reading`,
);
check(
  "sync read + transcode + request: no per-reading allocation (3-axis)",
  m.imu.slotsPerReadingSync < 1.6,
  `${m.imu.slotsPerReadingSync} slots/reading`,
);
console.log(`metered: ${5 - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
