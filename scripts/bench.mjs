// `npm run bench [-- --json] [-- KEY ...]`: runs every bench/<key>.bench.ts in
// its own process. Each prints a readable table and, as its last stdout line,
// `BENCH {"key": ..., "figures": {...}}`. This script prints the tables, writes
// bench-results.json, and with --json prints one JSON object on its last line.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.filter((a) => !a.startsWith("--"));
const files = fs
  .readdirSync(path.join(root, "bench"))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((k) => f.startsWith(k)))
  .sort();

const results = {};
let failed = false;
for (const file of files) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join("bench", file)], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (r.stdout ?? "").trimEnd().split("\n");
  const last = lines.at(-1) ?? "";
  if (r.status !== 0 || !last.startsWith("BENCH ")) {
    failed = true;
    console.error(`bench ${file} failed (exit ${r.status})`);
    console.error(lines.slice(-20).join("\n"));
    continue;
  }
  const { key, figures } = JSON.parse(last.slice(6));
  results[key] = figures;
  console.log(lines.slice(0, -1).join("\n"));
}
fs.writeFileSync(path.join(root, "bench-results.json"), `${JSON.stringify(results, null, 2)}\n`);
if (json) console.log(JSON.stringify(results));
process.exitCode = failed ? 1 : 0;
