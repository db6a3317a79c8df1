// Property test of the ring store over many seeds (the run and its checks:
// host-tests/support/flash-property.ts). The Node lane runs far more seeds in
// host-tests/node/storage-soak.test.ts.
import { assert, test } from "../harness/index";
import { runPropertySeed } from "../support/flash-property";
import { scaled } from "../support/mutation-scale";

test("property: random appends, reads, commits, erase-aheads and reboots keep every invariant (16 seeds)", () => {
  let reads = 0;
  let drops = 0;
  let reboots = 0;
  const seeds = scaled(16, 8);
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runPropertySeed(seed);
    reads += r.reads;
    drops += r.drops;
    reboots += r.reboots;
  }
  // The seeds must actually exercise wrapping, reading and rebooting.
  assert.ok(reads > (150 * seeds) / 16, `reads ${reads}`);
  assert.ok(drops > (50 * seeds) / 16, `drops ${drops}`);
  assert.ok(reboots > (15 * seeds) / 16, `reboots ${reboots}`);
});

test("property: the same through a mapped partition, live, lagging behind programs or torn (reads then use the driver)", () => {
  const seeds = scaled(8, 4);
  for (const mapping of ["live", "lagging", "torn"] as const) {
    let reads = 0;
    for (let seed = 101; seed <= 100 + seeds; seed++) reads += runPropertySeed(seed, mapping).reads;
    assert.ok(reads > (75 * seeds) / 8, `${mapping}: reads ${reads}`);
  }
});
