// The interactive demo on a real terminal: `q` stops it cleanly (capture stops, a last sync round,
// the closing lines, exit 0). The demo reads keys only when stdin and stdout are TTYs, so it runs
// under util-linux's `script`, which gives it a pseudo-terminal (Debian's bsdutils, always there).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { tempDir } from "../support/temp-dir.ts";

const root = path.resolve(import.meta.dirname, "../..");
const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");

test("q on the terminal stops the demo cleanly: a last sync, the closing line, exit 0", {
  skip: !hasScript && "util-linux `script` is not installed",
}, async (t) => {
  const dir = tempDir(t, "demo-pty");
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const command = `stty cols 100 rows 30; exec ${quote(process.execPath)} --import tsx tools/demo/main.ts --port 0 --data-dir ${quote(dir)}`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let pressed = false;
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  const onData = (d: Buffer): void => {
    out += d.toString();
    // Once the screen shows uploads under way, press q.
    if (!pressed && /cloud\s+[1-9]\d* readings stored/.test(out.replace(ANSI, ""))) {
      pressed = true;
      child.stdin.write("q");
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await done;
  clearTimeout(timer);
  const text = out.replace(ANSI, "");
  assert.ok(pressed, `the screen never showed an upload:\n${text.slice(-2000)}`);
  assert.equal(code, 0, text.slice(-2000));
  assert.match(text, /stopping: capture stopped, a last sync round/);
  assert.match(text, /demo: stopped cleanly after/);
  const m = /demo: (\d+) readings captured, (\d+) synced\s*$/.exec(text);
  assert.ok(m, text.slice(-1000));
  assert.equal(m[1], m[2], "everything captured was synced before the stop");
});
