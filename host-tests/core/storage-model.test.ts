// Model-based test of the ring store (both lanes): random appends, reads,
// commits, erase-aheads, layout changes and reopens under both reboot rules,
// with power cuts of every tear kind (during configure and reopen too) and
// flash driver errors, compared after every step with an in-memory reference
// (host-tests/support/flash-model.ts). Sized for CI; the long soak is
// host-tests/node/storage-model-soak.test.ts (CAPSYNC_STORAGE_SOAK=<seeds>).

import { assert, test } from "../harness/index";
import { runModelSeed } from "../support/flash-model";
import { scaled } from "../support/mutation-scale";

test("model-based run: 12 seeds × 150 steps with power cuts and driver errors", () => {
  let cuts = 0;
  let faults = 0;
  let configures = 0;
  let reopens = 0;
  let compared = 0;
  let drops = 0;
  const seeds = scaled(12, 6);
  for (let seed = 1; seed <= seeds; seed++) {
    const o = runModelSeed(seed, { steps: 150 });
    cuts += o.cuts;
    faults += o.faults;
    configures += o.configures;
    reopens += o.reopens;
    compared += o.compared;
    drops += o.drops;
  }
  // The run must have exercised what it claims to.
  const part = seeds / 12;
  assert.ok(cuts > 20 * part, `power cuts: ${cuts}`);
  assert.ok(faults > 20 * part, `driver errors: ${faults}`);
  assert.ok(
    configures > 50 * part && reopens > 50 * part,
    `layout changes ${configures}, reopens ${reopens}`,
  );
  assert.ok(drops > 0, `full rings dropped records: ${drops}`);
  assert.ok(compared > 10000 * part, `records compared: ${compared}`);
});

test("model-based run through a mapped partition (as on ESP32): 6 seeds × 150 steps, cuts and driver errors", () => {
  let compared = 0;
  let cuts = 0;
  const seeds = scaled(6, 3);
  for (let seed = 1001; seed <= 1000 + seeds; seed++) {
    const o = runModelSeed(seed, { steps: 150, mapped: true });
    compared += o.compared;
    cuts += o.cuts;
  }
  assert.ok(cuts > 10 * (seeds / 6), `power cuts: ${cuts}`);
  assert.ok(compared > 5000 * (seeds / 6), `records compared: ${compared}`);
});
