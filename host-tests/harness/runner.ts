// Node lane: tests written against the harness run under node:test.
import { test as nodeTest } from "node:test";

export type TestFn = () => void | Promise<void>;

// `npm run mutation` (stryker/harness-runner.mjs) imports the test files into one long-lived
// process and sets this collector first, so each test can be run on its own for each mutant.
const collect = (globalThis as { __capsyncCollectTest?: (name: string, fn: TestFn) => void })
  .__capsyncCollectTest;

export function test(name: string, fn: TestFn): void {
  if (collect) collect(name, fn);
  else nodeTest(name, fn);
}
