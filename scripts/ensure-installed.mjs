// `prestart` / `pretest`: on a fresh clone, install the locked dependencies
// first, so the quick start really is `npm start` then `npm test`. Does
// nothing when node_modules matches package-lock.json.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const lock = path.join(root, "package-lock.json");
const installed = path.join(root, "node_modules", ".package-lock.json");

const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs - 1000;
if (!fresh) {
  console.log(
    "capsync: installing dependencies (npm ci; the XS engine and SQLite build from source, ~2 min) …",
  );
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error("capsync: npm ci failed; see above (needs python3, make and g++ for native builds)");
    process.exit(r.status ?? 1);
  }
}
