// The demo as a new user meets it, run as a child process: every damaged file
// stops it with a message that names the file and says what to do (exit 1,
// nothing replaced); a closed stdout ends it cleanly; an explicit --port that
// is taken fails clearly; a clean stop leaves nothing for the next boot to
// discard.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { test } from "node:test";
import { tempDir } from "../support/temp-dir.ts";

const root = path.resolve(import.meta.dirname, "../..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(
  args: string[],
  onStdout?: (child: ReturnType<typeof spawn>, text: string) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "tools/demo/main.ts", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      onStdout?.(child, stdout);
    });
    child.stdout.on("error", () => {});
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const FLASH_BYTES = 1024 * 1024;

test("each damaged file stops the demo: the file named, what to do, exit 1, nothing replaced", async (t) => {
  const cases: { file: string; content: Buffer | string; says: RegExp }[] = [
    {
      file: "nvs.json",
      content: '{"partId": "x", ',
      says: /nvs\.json is damaged: not valid JSON .*delete it and start again/,
    },
    { file: "nvs.json", content: "[1, 2]", says: /nvs\.json is damaged: expected a JSON object/ },
    {
      file: "viam.json",
      content: "\u0000\u0001garbage",
      says: /viam\.json is damaged: not valid JSON.*delete it and start again/,
    },
    { file: "viam.json", content: '{"cloud": 3}', says: /viam\.json is damaged: expected \{"cloud"/ },
    {
      file: "machine-config.json",
      content: "{",
      says: /machine-config\.json is damaged: not valid JSON.*fix it, or delete it/,
    },
    {
      file: "flash.img",
      content: Buffer.alloc(FLASH_BYTES / 2, 0x5a),
      says: /flash\.img is damaged: 524288 bytes where the device's partition is 1048576 bytes.*not yet synced.*mv .*flash\.img\.damaged/,
    },
    { file: "config.img", content: Buffer.alloc(100, 1), says: /config\.img is damaged: 100 bytes/ },
  ];
  const runs = await Promise.all(
    cases.map(async (c) => {
      const dir = tempDir(t, "demo-damaged");
      fs.writeFileSync(path.join(dir, c.file), c.content);
      const run = await runDemo(["--for", "30", "--port", "0", "--data-dir", dir]);
      return { c, dir, run };
    }),
  );
  for (const { c, dir, run } of runs) {
    assert.equal(run.code, 1, `${c.file}: exit code (stderr: ${run.stderr})`);
    assert.match(run.stderr, c.says, c.file);
    assert.ok(run.stderr.includes(path.join(dir, c.file)), `${c.file}: the message names the full path`);
    assert.doesNotMatch(run.stderr, /\n\s+at /, `${c.file}: no stack trace`);
    // Never replaced: the damaged file is exactly as it was.
    assert.deepEqual(fs.readFileSync(path.join(dir, c.file)), Buffer.from(c.content), `${c.file} untouched`);
    assert.ok(!fs.existsSync(path.join(dir, "demo.lock")), `${c.file}: lock released`);
  }
});

test("a config.img of random bytes (right size) is reported as damaged, and the demo runs on", async (t) => {
  const dir = tempDir(t, "demo-config-img");
  const random = Buffer.alloc(2 * 4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  fs.writeFileSync(path.join(dir, "config.img"), random);
  const run = await runDemo(["--for", "4", "--status-every", "2", "--port", "0", "--data-dir", dir]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /config\.img held data but no valid cached config: it is damaged/);
});

test("an explicit --port that is taken fails clearly and names the port", async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const dir = tempDir(t, "demo-port");
  const run = await runDemo(["--for", "30", "--port", String(port), "--data-dir", dir]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`port ${port} is taken .*--port`));
  assert.doesNotMatch(run.stderr, /EADDRINUSE|listener error/);
});

test("a closed stdout (npm start | head -3) ends the demo cleanly, and the next start loses nothing", async (t) => {
  const dir = tempDir(t, "demo-epipe");
  const run = await runDemo(
    ["--for", "60", "--status-every", "1", "--port", "0", "--data-dir", dir],
    (child, text) => {
      // Like `head -3`: read three lines, then close the pipe.
      if (text.split("\n").length > 3 && !child.stdout!.destroyed) child.stdout!.destroy();
    },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /EPIPE|\n\s+at /);
  assert.match(run.stderr, /stopping: capture stopped, a last sync round/);
  assert.ok(!fs.existsSync(path.join(dir, "demo.lock")), "stopped cleanly: lock released");

  // The clean stop stopped sampling, then synced: the next boot finds nothing unsynced to discard.
  const next = await runDemo(["--for", "3", "--status-every", "1", "--port", "0", "--data-dir", dir]);
  assert.equal(next.code, 0, next.stderr);
  for (const line of next.stdout.split("\n").filter((l) => /^demo: {3}\S+\/\S+: captured/.test(l))) {
    assert.match(line, /lost 0,/, line);
  }
  assert.doesNotMatch(next.stderr, /unsynced reading\(s\) discarded|from before the reboot discarded/);
});

test("Ctrl-C (SIGINT) stops cleanly: capture stops, a last sync, the closing line last, nothing left pending", async (t) => {
  const dir = tempDir(t, "demo-sigint");
  let signalled = false;
  const run = await runDemo(
    ["--for", "120", "--status-every", "1", "--port", "0", "--data-dir", dir],
    (child, text) => {
      // After two status lines (uploads under way), press Ctrl-C.
      if (!signalled && (text.match(/^status: /gm) ?? []).length >= 2) {
        signalled = true;
        child.kill("SIGINT");
      }
    },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /stopping: capture stopped, a last sync round/);
  const lines = run.stdout.trimEnd().split("\n");
  const m = /^demo: (\d+) readings captured, (\d+) synced$/.exec(lines.at(-1)!);
  assert.ok(m, `last line: ${lines.at(-1)}`);
  assert.equal(m[1], m[2], "everything captured was synced before the stop");
  for (const line of lines.filter((l) => /^demo: {3}\S+\/\S+: captured/.test(l)))
    assert.match(line, /pending 0$/, line);
});
