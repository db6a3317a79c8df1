// `npm run mutation [storage|sync]`: StrykerJS over the firmware's storage and sync modules
// (not in CI: it runs the tests once per mutant). Each area has its own config in stryker/;
// reports land in reports/mutation/<area>/ and each run prints its mutation score.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const areas = process.argv.slice(2);
const configs = fs
  .readdirSync(path.join(root, "stryker"))
  .filter((f) => f.endsWith(".config.mjs"))
  .map((f) => f.replace(/\.config\.mjs$/, ""))
  .filter((area) => areas.length === 0 || areas.includes(area))
  .sort();
if (configs.length === 0) {
  console.error(`mutation: no config in stryker/ for ${areas.join(", ") || "any area"}`);
  process.exit(2);
}
let failed = 0;
for (const area of configs) {
  console.log(`\n== mutation: ${area}`);
  const stryker = path.join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");
  const result = spawnSync(process.execPath, [stryker, "run", path.join("stryker", `${area}.config.mjs`)], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
