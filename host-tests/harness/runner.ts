// Node lane: tests written against the harness run under node:test.
import { test as nodeTest } from "node:test";

export type TestFn = () => void | Promise<void>;

export function test(name: string, fn: TestFn): void {
  nodeTest(name, fn);
}
