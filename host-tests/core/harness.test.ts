import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

test("the seeded PRNG replays the same sequence", () => {
  const a = new Random(42);
  const b = new Random(42);
  for (let i = 0; i < 100; i++) assert.equal(a.u32(), b.u32());
  assert.notEqual(new Random(1).u32(), new Random(2).u32());
});

test("deepEqual tells byte arrays apart", () => {
  assert.deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
  assert.throws(() => assert.deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), "expected");
});
