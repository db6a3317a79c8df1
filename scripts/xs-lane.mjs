// XS lane: bundle each platform-free test file (host-tests/core/**/*.test.ts)
// with its imports into one script and run it inside a real XS engine
// (@agoric/xsnap). Runs in its own Node process because @endo/init locks down
// this process's globals. Ends with the plain line `xs: N passed, M failed`.
import "@endo/init";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { xsnap } from "@agoric/xsnap";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const filter = process.argv.slice(2).filter((a) => !a.startsWith("-"));

function listTests(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTests(full));
    else if (entry.name.endsWith(".test.ts")) out.push(full);
  }
  return out.sort();
}

const xsRunner = path.join(root, "host-tests/harness/runner-xs.ts");
const swapRunner = {
  name: "xs-runner",
  setup(build) {
    build.onResolve({ filter: /harness\/runner$|^\.\/runner$/ }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      if (resolved === path.join(root, "host-tests/harness/runner")) return { path: xsRunner };
      return undefined;
    });
  },
};

export async function bundle(entry) {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    plugins: [swapRunner],
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

// Minimal `tmpName` (xsnap wants the `tmp` package's shape).
let tmpCounter = 0;
const tmpName = (_opts, cb) => cb(null, path.join(os.tmpdir(), `capsync-xs-${process.pid}-${tmpCounter++}`));

export async function runInXs(script, onMessage) {
  const decoder = new TextDecoder();
  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fsp, ...fs, tmpName },
    name: "capsync-xs",
    meteringLimit: 0,
    stdout: "inherit",
    stderr: "inherit",
    handleCommand: async (bytes) => {
      onMessage(JSON.parse(decoder.decode(bytes)));
      return new Uint8Array(0);
    },
  });
  try {
    await worker.evaluate(script);
  } finally {
    await worker.close().catch(() => {});
  }
}

async function main() {
  const files = listTests(path.join(root, "host-tests/core")).filter(
    (f) => filter.length === 0 || filter.some((p) => f.includes(p)),
  );
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const rel = path.relative(root, file);
    let done = false;
    try {
      const code = await bundle(file);
      const script = `globalThis.console = { log: (...a) => print(a.join(" ")) }; ${code}\n;globalThis.__capsyncRunTests();`;
      await runInXs(script, (m) => {
        if (m.kind === "result") {
          if (m.ok) {
            passed++;
            console.log(`ok   ${rel} › ${m.name} (${m.ms.toFixed(1)} ms)`);
          } else {
            failed++;
            console.log(`FAIL ${rel} › ${m.name}\n     ${String(m.error).replace(/\n/g, "\n     ")}`);
          }
        } else if (m.kind === "done") done = true;
      });
      if (!done) {
        failed++;
        console.log(`FAIL ${rel}: the worker went idle before every test finished (a test awaited a timer?)`);
      }
    } catch (error) {
      failed++;
      console.log(`FAIL ${rel}: ${error?.message ?? error}`);
    }
  }
  // Metered checks drive an XS worker crank by crank from Node (its heap and computron meters are read
  // between cranks): host-tests/xs-metered/*.metered.ts, each printing `ok …` / `FAIL …` lines.
  const metered = await import("./xs-metered.mjs");
  ({ passed, failed } = metered.runMetered(root, filter, { passed, failed }));
  console.log(`xs: ${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await main();
