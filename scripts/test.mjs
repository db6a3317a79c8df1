// `npm test`: every lane, one after another, then one summary line.
//   node — node:test over host-tests/**/*.test.ts (the core with Node ports, the local cloud, tools)
//   xs   — host-tests/core/**/*.test.ts bundled and run inside the XS engine (scripts/xs-lane.mjs)
//   sim  — the Moddable app built for lin and run in mcsim (needs $MODDABLE; skipped visibly otherwise)
// Options: --lane node|xs|sim (repeatable), and any other words filter test files by substring.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const args = process.argv.slice(2);
const lanes = [];
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--lane") lanes.push(args[++i]);
  else filters.push(args[i]);
}
const want = (lane) => lanes.length === 0 || lanes.includes(lane);

function listTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTests(full));
    else if (entry.name.endsWith(".test.ts")) out.push(full);
  }
  return out.sort();
}

function run(command, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      text += chunk;
      if (text.length > 200_000) text = text.slice(-100_000);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, text }));
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedLanes = [];

if (want("node")) {
  const files = listTests(path.join(root, "host-tests")).filter(
    (f) =>
      !f.includes(`${path.sep}sim${path.sep}`) &&
      (filters.length === 0 || filters.some((p) => f.includes(p))),
  );
  console.log(`\n== node lane: ${files.length} files`);
  const { code, text } = await run(process.execPath, [
    "--import",
    "tsx",
    "--test",
    "--test-reporter=spec",
    "--test-concurrency=2",
    ...files,
  ]);
  const pass = Number(/ℹ pass (\d+)/.exec(text)?.[1] ?? 0);
  const fail = Number(/ℹ fail (\d+)/.exec(text)?.[1] ?? 0);
  totals.passed += pass;
  totals.failed += fail;
  if (code !== 0 || pass === 0) {
    failedLanes.push("node");
    if (fail === 0) totals.failed += 1;
  }
}

if (want("xs")) {
  console.log("\n== xs lane");
  const { code, text } = await run(process.execPath, [path.join(root, "scripts/xs-lane.mjs"), ...filters]);
  const m = /^xs: (\d+) passed, (\d+) failed$/m.exec(text);
  totals.passed += Number(m?.[1] ?? 0);
  totals.failed += Number(m?.[2] ?? 0);
  if (code !== 0 || !m) {
    failedLanes.push("xs");
    if (!m || m[2] === "0") totals.failed += 1;
  }
}

if (want("sim")) {
  console.log("\n== sim lane");
  const lane = path.join(root, "host-tests/sim/lane.ts");
  if (!process.env.MODDABLE) {
    console.log("sim: SKIPPED — $MODDABLE is not set, so the Moddable app cannot be built and run in mcsim.");
    console.log("     Install the Moddable SDK (see README, 'Simulator lane') to run it.");
    totals.skipped += 1;
  } else if (!fs.existsSync(lane)) {
    console.log("sim: SKIPPED — host-tests/sim/lane.ts does not exist yet.");
    totals.skipped += 1;
  } else {
    const { code, text } = await run(process.execPath, ["--import", "tsx", lane]);
    const m = /^sim: (\d+) passed, (\d+) failed/m.exec(text);
    totals.passed += Number(m?.[1] ?? 0);
    totals.failed += Number(m?.[2] ?? 0);
    if (code !== 0 || !m) {
      failedLanes.push("sim");
      if (!m || m[2] === "0") totals.failed += 1;
    }
  }
}

if (failedLanes.length) console.log(`\nfailed lanes: ${failedLanes.join(", ")}`);
console.log(
  `test: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`,
);
process.exitCode = failedLanes.length ? 1 : 0;
