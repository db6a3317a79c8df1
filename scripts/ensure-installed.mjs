// `prestart` / `pretest`: on a fresh clone, install the locked dependencies
// first, so the quick start really is `npm start` then `npm test`. Does
// nothing when every dependency is installed.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const wanted = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
// Only a missing install triggers one (a fresh clone, or a dependency added
// since): a reinstall builds the XS engine again, so never do it on a whim.
const fresh =
  fs.existsSync(path.join(root, "node_modules", ".package-lock.json")) &&
  wanted.every((name) => fs.existsSync(path.join(root, "node_modules", name, "package.json")));
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
