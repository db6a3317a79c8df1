// decimalsOf (the block start's step choice) refuses most values in one test before its exact loop.
// That shortcut must never change an answer: compared here with the loop alone, over values that have
// 0–9 decimals (codes up to the 2^50 limit), noisy doubles of every magnitude, and the special values.

import { MAX_CODE, MODE_MAX_DECIMALS } from "../../modules/capture/block-format";
import { decimalsOf, POW10 } from "../../modules/capture/block-writer";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

/** The definition: the smallest k ≤ 9 with value = code / 10^k exactly (Object.is), or −1. */
function reference(value: number): number {
  for (let k = 0; k <= MODE_MAX_DECIMALS; k++) {
    const f = POW10[k]!;
    const code = Math.round(value * f) + 0;
    if (Number.isInteger(code) && Math.abs(code) < MAX_CODE && Object.is(code / f, value)) return k;
  }
  return -1;
}

test("decimalsOf: the shortcut gives the definition's answer (decimals, noise, limits, specials)", () => {
  const rnd = new Random(10);
  const values: number[] = [
    0,
    -0,
    1,
    -1,
    0.1,
    0.2,
    0.1 + 0.2,
    1e-9,
    1.5e-9,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    Number.MAX_VALUE,
    1e300,
    2 ** 50,
    2 ** 50 - 1,
    -(2 ** 50 - 1),
    2 ** 53,
    2 ** 53 + 2,
    2 ** 51 + 0.5,
    9.80665,
    1013.25,
    40.7128,
    -74.006,
    123456.789012345,
    Math.PI,
    Math.E,
  ];
  for (let k = 0; k <= 9; k++) {
    const f = POW10[k]!;
    for (let i = 0; i < 300; i++) {
      // Codes of every size up to the limit, and just past it.
      const bits = 1 + rnd.int(51);
      const code = Math.floor(rnd.float() * 2 ** bits) * (rnd.int(2) === 0 ? 1 : -1);
      values.push(code / f, (MAX_CODE - 1 - rnd.int(1000)) / f, (MAX_CODE + rnd.int(1000)) / f);
    }
  }
  for (let i = 0; i < 3000; i++) {
    // Noisy doubles from 1e-12 to 1e18, and sines like the simulated sensors'.
    values.push((rnd.float() - 0.5) * 10 ** (rnd.int(31) - 12), Math.sin(i / 20), Math.cos(i / 7) * 100);
  }
  let withDecimals = 0;
  for (const v of values) {
    const want = reference(v);
    assert.equal(decimalsOf(v), want, `decimalsOf(${v})`);
    if (want >= 0) withDecimals++;
  }
  // Both answers were exercised: values with a step and values without one.
  assert.ok(
    withDecimals > 2000 && withDecimals < values.length - 5000,
    `${withDecimals} of ${values.length}`,
  );
});
