// The Node lane's heavier share of the store's robustness tests: the property
// run over many more seeds, exhaustive power cuts over several scenarios with
// both reboot rules at every (operation, tear), and a random soak of
// thousands of seeded cuts. Same checks as the core tests (host-tests/support).
import assert from "node:assert/strict";
import { test } from "node:test";
import { TEAR_MODES } from "../../modules/storage/nor-image";
import { Random } from "../harness/random";
import { runPropertySeed } from "../support/flash-property";
import { runPowerCutCase, scenarioOperations } from "../support/flash-scenario";

const TEARS = [...TEAR_MODES];

test("property run over 300 seeds", () => {
  let drops = 0;
  for (let seed = 100; seed < 400; seed++) drops += runPropertySeed(seed).drops;
  assert.ok(drops > 1000);
});

test("exhaustive power cuts over 6 scenarios: every operation × every tear × both reboot rules", () => {
  let cases = 0;
  for (const scenarioSeed of [1, 2, 4, 5, 6, 7]) {
    const total = scenarioOperations(scenarioSeed).operations;
    for (let k = 0; k < total; k++) {
      for (const tear of TEARS) {
        for (const retainAfter of [true, false]) {
          assert.ok(runPowerCutCase({ scenarioSeed, cutAt: k, tear, retainAfter }).cut);
          cases++;
        }
      }
    }
  }
  assert.ok(cases > 3000, `${cases} cases`);
});

test("random power-cut soak: 5000 seeded cuts over random, longer scenarios", () => {
  const rng = new Random(77);
  let cuts = 0;
  for (let i = 0; i < 5000; i++) {
    const outcome = runPowerCutCase({
      scenarioSeed: 1 + rng.int(1 << 30),
      cutAt: rng.int(160),
      tear: rng.pick(TEARS),
      retainAfter: rng.float() < 0.5,
      tearSeed: rng.u32(),
      steps: 90,
    });
    if (outcome.cut) cuts++;
  }
  assert.ok(cuts > 4000, `only ${cuts} of 5000 cases were cut`);
});
