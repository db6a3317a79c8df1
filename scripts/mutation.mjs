// `npm run mutation [storage|sync] [-- --part <file>]`: StrykerJS over the firmware's storage and sync
// modules (not in CI: it runs tests once per mutant). Each area has its config in stryker/; each
// source file of the area is its own Stryker run (a "part", so only that file is instrumented), in
// incremental mode: a re-run tests only mutants whose code or tests changed. Reports land in
// reports/mutation/<area>/<file>/ (HTML and JSON); the summary, with every surviving mutant, in
// reports/mutation/<area>/summary.md. Prints each file's mutation score and the area's.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const args = process.argv.slice(2);
const partIndex = args.indexOf("--part");
const onlyParts = partIndex >= 0 ? args.splice(partIndex, 2)[1].split(",") : undefined;
const areas = args;
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

// Files that hold only type declarations have no mutants: Stryker is not started for them.
const declarationsOnly = (text) => !/^\s*export\s+(const|let|function|class|enum|default)\b/m.test(text);

// A mutant counts toward the score unless Stryker could not run it at all (ignored, compile error).
const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

function tally(report) {
  const t = { detected: 0, undetected: 0, ignored: 0, survivors: [] };
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (DETECTED.has(m.status)) t.detected++;
      else if (UNDETECTED.has(m.status)) {
        t.undetected++;
        const at = `${file}:${m.location.start.line}:${m.location.start.column}`;
        t.survivors.push(`${at} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? "")}`);
      } else t.ignored++;
    }
  }
  return t;
}

const score = (t) =>
  t.detected + t.undetected === 0 ? 100 : (100 * t.detected) / (t.detected + t.undetected);

let failed = 0;
for (const area of configs) {
  const sources = fs
    .readdirSync(path.join(root, "modules", area))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .filter((f) => !declarationsOnly(fs.readFileSync(path.join(root, "modules", area, f), "utf8")))
    .map((f) => f.replace(/\.ts$/, ""))
    .filter((p) => !onlyParts || onlyParts.includes(p))
    .sort((a, b) => (onlyParts ? onlyParts.indexOf(a) - onlyParts.indexOf(b) : a.localeCompare(b)));
  const started = Date.now();
  const rows = [];
  for (const part of sources) {
    console.log(`\n== mutation: ${area}/${part}.ts`);
    const stryker = path.join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");
    const result = spawnSync(process.execPath, [stryker, "run", path.join("stryker", `${area}.config.mjs`)], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, CAPSYNC_MUTATION_PART: part },
    });
    if (result.status !== 0) failed++;
  }
  // The summary covers every part with a report, including parts not re-run this time.
  const all = { detected: 0, undetected: 0, ignored: 0, survivors: [] };
  for (const part of fs.readdirSync(path.join(root, "modules", area)).map((f) => f.replace(/\.ts$/, ""))) {
    const file = path.join(root, "reports", "mutation", area, part, "mutation.json");
    if (!fs.existsSync(file)) continue;
    const t = tally(JSON.parse(fs.readFileSync(file, "utf8")));
    rows.push(
      `| ${part}.ts | ${t.detected + t.undetected} | ${t.detected} | ${t.undetected} | ${score(t).toFixed(1)} % |`,
    );
    all.detected += t.detected;
    all.undetected += t.undetected;
    all.ignored += t.ignored;
    all.survivors.push(...t.survivors);
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const lines = [
    `# Mutation score: modules/${area}`,
    "",
    `${score(all).toFixed(1)} % (${all.detected} of ${all.detected + all.undetected} mutants detected; ${all.ignored} ignored)`,
    "",
    "| file | mutants | killed or timed out | survived or not covered | score |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "## Not detected",
    "",
    ...all.survivors.map((s) => `- ${s}`),
    "",
  ];
  fs.mkdirSync(path.join(root, "reports", "mutation", area), { recursive: true });
  fs.writeFileSync(path.join(root, "reports", "mutation", area, "summary.md"), lines.join("\n"));
  console.log(
    `\n== mutation score modules/${area}: ${score(all).toFixed(1)} % (${all.detected}/${all.detected + all.undetected}); this run ${minutes} min`,
  );
  console.log(rows.join("\n"));
  console.log(`survivors: reports/mutation/${area}/summary.md`);
}
process.exit(failed === 0 ? 0 : 1);
