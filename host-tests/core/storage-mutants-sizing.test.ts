// Ring sizes from cache_size_kb at the edges: zero, infinities, values that
// are not numbers at all (config is untrusted input), tiny and exact sizes.

import { DEFAULT_RING_KB, ringSectorsFor } from "../../modules/storage/sizing";
import { assert, test } from "../harness/index";

test("cache_size_kb of zero, infinite or not a number gives the default ring", () => {
  const fallback = (DEFAULT_RING_KB * 1024) / 4096;
  for (const bad of [
    0,
    -0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    "8",
    null,
    true,
    {},
  ] as unknown[]) {
    assert.equal(ringSectorsFor(bad as number, 4096), fallback, String(bad));
  }
});

test("cache_size_kb rounds up to whole sectors, never below 2", () => {
  assert.equal(ringSectorsFor(1e-9, 4096), 2);
  assert.equal(ringSectorsFor(8, 4096), 2);
  assert.equal(ringSectorsFor(8.001, 4096), 3);
  assert.equal(ringSectorsFor(12, 4096), 3);
  assert.equal(ringSectorsFor(64, 65536), 2);
  assert.equal(ringSectorsFor(1024, 65536), 16);
  assert.equal(ringSectorsFor(1, 256), 4);
});
