// The core stays platform-free: nothing under modules/ (except modules/platform/)
// may import anything but other core modules by relative path.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "platform" ? [] : walk(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

test("core modules import only relative core modules", () => {
  const offenders: string[] = [];
  for (const file of walk(path.join(root, "modules"))) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(
      /(?:import|export)[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']/g,
    )) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) offenders.push(`${path.relative(root, file)} imports "${spec}"`);
      else if (spec.includes("/platform/")) offenders.push(`${path.relative(root, file)} imports "${spec}"`);
    }
  }
  assert.deepEqual(offenders, []);
});
