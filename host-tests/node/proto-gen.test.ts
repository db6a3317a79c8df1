// The committed protobuf-es code is what `npm run generate` produces from protos/, offline.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

test("regenerating protos/ gives exactly the committed protos/gen", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-gen-"));
  try {
    // Same template, output under a temporary root (buf resolves `out` relative to --output).
    execFileSync(path.join(root, "node_modules/.bin/buf"), ["generate", "protos", "--output", out], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BUF_CACHE_DIR: path.join(out, ".cache") },
    });
    const fresh = path.join(out, "protos/gen");
    const committed = path.join(root, "protos/gen");
    assert.deepEqual(files(fresh), files(committed));
    for (const f of files(committed)) {
      assert.equal(
        fs.readFileSync(path.join(fresh, f), "utf8"),
        fs.readFileSync(path.join(committed, f), "utf8"),
        f,
      );
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
