// Power cuts at every flash operation of a scenario (appends, wraps, erase-aheads,
// commits, a clean reboot), each torn every way the NOR emulation can tear it;
// after the reboot the store must reopen with every invariant intact: no
// damaged record returned, no acknowledged record returned again, sync point
// old or new, no completed append lost, still writable (checks in
// host-tests/support/flash-scenario.ts). Sized for the XS lane; the Node lane
// runs more scenarios and a longer soak in host-tests/node/storage-soak.test.ts.

import { TEAR_MODES } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { runPowerCutCase, SCENARIO_LAYOUT, scenarioOperations } from "../support/flash-scenario";
import { scaled } from "../support/mutation-scale";

const TEARS = [...TEAR_MODES];
const RING_SECTORS = SCENARIO_LAYOUT.reduce((n, e) => n + e.sectors, 0);

test("power cut at every flash operation of a wrapping scenario, every tear, each under both reboot rules", () => {
  const scenarioSeed = 3;
  const plain = scenarioOperations(scenarioSeed);
  assert.ok(plain.operations > 60, `scenario too short to mean much: ${plain.operations} operations`);
  assert.ok(plain.erases > RING_SECTORS, `scenario never wrapped its rings (${plain.erases} erases)`);
  // Every operation; every third one (still every tear and both rules) inside a mutation run.
  const stride = scaled(1, 3);
  let verified = 0;
  let cases = 0;
  for (let k = 0; k < plain.operations; k += stride) {
    for (const tear of TEARS) {
      for (const retainAfter of [false, true]) {
        const outcome = runPowerCutCase({ scenarioSeed, cutAt: k, tear, retainAfter });
        assert.ok(outcome.cut, `operation ${k} of ${plain.operations} was never reached`);
        verified += outcome.verifiedRecords;
        cases++;
      }
    }
  }
  assert.equal(cases, Math.ceil(plain.operations / stride) * TEARS.length * 2);
  assert.ok(verified > cases, `too few records read back to prove anything (${verified})`);
});

test("random power-cut soak: 100 seeded cuts over random scenarios", () => {
  const rng = new Random(2024);
  let cuts = 0;
  for (let i = 0; i < 100; i++) {
    const scenarioSeed = 1000 + rng.int(1_000_000);
    // Scenarios run 65–100 operations: a cut past the end checks a clean reboot instead.
    const outcome = runPowerCutCase({
      scenarioSeed,
      cutAt: rng.int(90),
      tear: rng.pick(TEARS),
      retainAfter: rng.float() < 0.5,
      tearSeed: rng.u32(),
    });
    if (outcome.cut) cuts++;
  }
  assert.ok(cuts > 70, `only ${cuts} of 100 cases were cut`);
});
