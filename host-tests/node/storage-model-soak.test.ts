// The model-based store test (host-tests/support/flash-model.ts) over more
// seeds and longer runs. In CI: 40 seeds × 200 steps (a few seconds).
// CAPSYNC_STORAGE_SOAK=<seeds> runs that many seeds × 400 steps instead
// (CAPSYNC_STORAGE_SOAK=2000: roughly 100× the CI run's work).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runModelSeed } from "../support/flash-model";

const soak = Number(process.env.CAPSYNC_STORAGE_SOAK ?? 0);
const seeds = soak > 0 ? soak : 40;
const steps = soak > 0 ? 400 : 200;

test(`model-based soak: ${seeds} seeds × ${steps} steps, cuts and driver errors`, () => {
  let cuts = 0;
  let faults = 0;
  for (let seed = 10_000; seed < 10_000 + seeds; seed++) {
    const o = runModelSeed(seed, { steps });
    cuts += o.cuts;
    faults += o.faults;
  }
  assert.ok(cuts > seeds * 3, `power cuts: ${cuts}`);
  assert.ok(faults > seeds * 3, `driver errors: ${faults}`);
});
