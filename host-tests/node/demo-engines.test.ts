// `npm install` on the Node versions the README promises (package.json engines) warns only
// about what the README explains: every package in package-lock.json whose
// `engines.node` excludes the README's version must be named there with the reason.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import semver from "semver";

const root = path.resolve(import.meta.dirname, "../..");
/** Whether `version` is in an `engines.node` range, as npm decides it. */
export function satisfies(version: string, range: string): boolean {
  return semver.satisfies(version, range);
}

test("range check: the forms in the lock file", () => {
  assert.ok(satisfies("20.9.0", ">=20.9"));
  assert.ok(!satisfies("20.9.0", ">=22"));
  assert.ok(satisfies("20.20.0", "20.x || 22.x"));
  assert.ok(satisfies("20.20.0", "^18.19.0 || >=20.5.0"));
  assert.ok(!satisfies("20.9.0", ">=23.5.0 || ^22.13.0 || ^20.17.0"));
  assert.ok(satisfies("20.17.1", ">=23.5.0 || ^22.13.0 || ^20.17.0"));
  assert.ok(satisfies("20.9.0", "18 || 20 || >=22"));
  assert.ok(satisfies("20.9.0", ">= 14.6"));
});

test("package.json engines and the README agree, and every stricter package is explained", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const promised = /Node\.js ≥ (\d+\.\d+)/.exec(readme)?.[1];
  assert.ok(promised, "the README states the Node version");
  assert.equal(pkg.engines.node, `>=${promised}`, "package.json engines = the README's promise");
  const stricter: string[] = [];
  for (const [where, entry] of Object.entries(
    lock.packages as Record<string, { engines?: { node?: string } }>,
  )) {
    const range = entry.engines?.node;
    if (!where || !range) continue;
    if (!satisfies(`${promised}.0`, range) || !satisfies("20.20.0", range))
      stricter.push(where.replace(/^.*node_modules\//, ""));
  }
  // Only packages npm installs for this project, dev tools included: each must be explained in the README.
  for (const name of new Set(stricter)) {
    assert.match(
      readme,
      new RegExp(`EBADENGINE … ${name.replace(/[/.]/g, "\\$&")}`),
      `${name} (${stricter.join(", ")})`,
    );
  }
});
