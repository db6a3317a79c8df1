// The simulator tools work from a clone in any folder: mcconfig names the app
// after the folder holding manifest.json, so mc.so is looked for under that
// name (not "main"), and each checkout builds in its own folder.
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { appSoPath, defaultBuildDir, root } from "../../tools/sim/simulator.ts";

test("mc.so is looked for under the checkout folder's name", () => {
  assert.equal(appSoPath("/tmp/b", "/home/me/capsync"), "/tmp/b/bin/lin/mc/debug/capsync/mc.so");
  assert.equal(appSoPath("/tmp/b", "/work/wt-ux"), "/tmp/b/bin/lin/mc/debug/wt-ux/mc.so");
  assert.equal(path.basename(path.dirname(appSoPath("/x"))), path.basename(root));
});

test("each checkout has its own build folder", () => {
  const dir = defaultBuildDir();
  assert.ok(path.basename(dir).startsWith(`capsync-sim-build-${path.basename(root)}-`), dir);
  assert.match(path.basename(dir), /-[0-9a-f]{8}$/);
});
