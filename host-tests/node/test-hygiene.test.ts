// Tests clean up after themselves: temp directories made with host-tests/support/temp-dir.ts
// are gone when their test ends, passed or failed, and the test files that make flash
// images leave nothing in the temp dir (run in a child with a temp dir of their own).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { tempDir } from "../support/temp-dir";

const root = path.resolve(import.meta.dirname, "../..");

test("tempDir: removed when its test ends, also when the test fails", async (t) => {
  let passed = "";
  let failed = "";
  await t.test("a passing test", (sub) => {
    passed = tempDir(sub, "hygiene");
    fs.writeFileSync(path.join(passed, "f"), "x");
  });
  // A failing subtest would fail this test too; a hook-only context shows the same contract.
  const hooks: (() => void)[] = [];
  failed = tempDir({ after: (fn: () => void) => hooks.push(fn) } as never, "hygiene");
  fs.mkdirSync(path.join(failed, "nested"));
  assert.ok(fs.existsSync(failed));
  for (const hook of hooks) hook();
  assert.equal(fs.existsSync(passed), false, "the passing test's directory is gone");
  assert.equal(fs.existsSync(failed), false, "the directory goes with its hook, contents and all");
});

/** This process's environment with its own temp dir, minus node:test's marker (a child would report to us, not run). */
function childEnv(tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test("flash image tests leave no capsync-* entries in the temp dir", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hygiene-"));
  try {
    const files = ["host-tests/node/storage-file.test.ts", "host-tests/node/storage-lin-flash.test.ts"];
    const run = spawnSync(process.execPath, ["--import", "tsx", "--test", ...files], {
      cwd: root,
      encoding: "utf8",
      env: childEnv(tmp),
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /# pass [1-9]/, "the tests ran");
    const left = fs.readdirSync(tmp).filter((name) => name.startsWith("capsync-"));
    assert.deepEqual(left, [], "left behind");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
