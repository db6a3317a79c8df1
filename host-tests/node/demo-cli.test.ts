// `npm start -- --for SECONDS` without a terminal: status lines, then the
// closing line LAST, with numbers that match the cloud's database; a second
// run continues with the same data dir.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";

const root = path.resolve(import.meta.dirname, "../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-demo-cli-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "tools/demo/main.ts", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function dbCount(): number {
  const db = new Database(path.join(dir, "cloud.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM readings").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const closing = /^demo: (\d+) readings captured, (\d+) synced$/;

test("--for runs headless, prints status lines, stops by itself and ends with the closing line", async () => {
  const started = Date.now();
  const run = await runDemo(["--for", "8", "--status-every", "1", "--port", "0", "--data-dir", dir]);
  assert.equal(run.code, 0, run.stderr);
  const elapsed = (Date.now() - started) / 1000;
  assert.ok(elapsed >= 8 && elapsed < 40, `ran ${elapsed.toFixed(1)} s`);
  const lines = run.stdout.trimEnd().split("\n");
  const m = closing.exec(lines.at(-1)!);
  assert.ok(m, `last line was: ${lines.at(-1)}`);
  const [captured, synced] = [Number(m[1]), Number(m[2])];
  // Sampler deadlines (captured + missed: a deadline the loaded machine could not keep is counted,
  // not captured) follow the clock whatever the load: the 200 Hz IMU alone has 200 a second.
  const last = lines.filter((l) => l.startsWith("status: ")).at(-1)!;
  const [, mm, ss, cap, missed] = /t=00:(\d\d):(\d\d) .*captured=(\d+) .*missed=(\d+)/
    .exec(last)!
    .map(Number);
  const seconds = mm! * 60 + ss!;
  assert.ok(cap! + missed! > 150 * (seconds - 2), `${cap} captured + ${missed} missed by t=${seconds} s`);
  assert.ok(captured > 0);
  assert.ok(synced > 0 && synced <= captured);
  // A fresh data dir: the database holds exactly what the device counted as synced.
  assert.equal(dbCount(), synced);
  const statusLines = lines.filter((l) => l.startsWith("status: "));
  assert.ok(statusLines.length >= 5, `${statusLines.length} status lines`);
  assert.ok(!run.stdout.includes("\u001b["), "no terminal escapes without a terminal");
  // Status lines show progress: captured grows.
  const capturedIn = statusLines.map((l) => Number(/captured=(\d+)/.exec(l)![1]));
  assert.ok(capturedIn.at(-1)! > capturedIn[0]!);
  // Device and cloud logs go to stderr.
  assert.match(run.stderr, /config: applied the cloud's config/);
});

test("a second run continues with the same flash image and database", async () => {
  const before = dbCount();
  const run = await runDemo(["--for", "4", "--status-every", "1", "--port", "0", "--data-dir", dir]);
  assert.equal(run.code, 0, run.stderr);
  const m = closing.exec(run.stdout.trimEnd().split("\n").at(-1)!);
  assert.ok(m);
  assert.equal(dbCount(), before + Number(m[2]), "new uploads added to the same database, no duplicates");
  assert.doesNotMatch(run.stderr, /new blank flash image/);
  // The first run's unsynced tail was found in the image at boot (default reboot rule: discarded, counted).
  assert.match(run.stderr, /from before the reboot discarded|capturing from the cached config/);
});

test("a second demo on the same data dir is refused while the first runs", async () => {
  // The first runs until stopped (no race with a loaded machine's slow start); it holds the lock.
  const first = runDemo(["--for", "600", "--port", "0", "--data-dir", dir]);
  const lock = path.join(dir, "demo.lock");
  for (let i = 0; i < 1200 && !fs.existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
  const owner = Number(fs.readFileSync(lock, "utf8"));
  const second = await runDemo(["--for", "2", "--port", "0", "--data-dir", dir]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`another demo \\(pid ${owner}\\) is using`));
  // Ctrl-C to the first (its pid is in the lock): a clean stop.
  process.kill(owner, "SIGINT");
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(!fs.existsSync(lock), "the lock is released at stop");
});

test("bad options are refused with the usage line", async () => {
  const run = await runDemo(["--for", "soon"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--for must be a positive number/);
  assert.match(run.stderr, /usage: npm start/);
});
