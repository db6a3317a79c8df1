/*
 * The README's ESP32 build line passes the viam.json credentials to mcconfig.
 * A secret with spaces, quotes, $, ` or a backslash must arrive as one
 * argument, byte for byte: run the tool as it is documented, with a stand-in
 * "mcconfig" that prints the argv it received.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it, type TestContext } from "node:test";
import { tempDir } from "../support/temp-dir.ts";

const root = path.resolve(import.meta.dirname, "../..");
const tool = path.join(root, "tools/sim/viam-json-args.ts");
const SECRET = `a b  "c" 'd' $HOME \`id\` \\n $(echo x) ;|&*?`;
const PART = "5e1f0c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b";

function setup(t: TestContext): { dir: string; viamJson: string; printArgs: string } {
  const dir = tempDir(t, "viam-json-args");
  const viamJson = path.join(dir, "viam.json");
  fs.writeFileSync(
    viamJson,
    JSON.stringify({ cloud: { id: PART, secret: SECRET, app_address: "https://app.viam.com:443" } }),
  );
  const printArgs = path.join(dir, "print-args.mjs");
  fs.writeFileSync(printArgs, "console.log(JSON.stringify(process.argv.slice(2)));\n");
  return { dir, viamJson, printArgs };
}

const expected = (extra: string[]) => [
  ...extra,
  `partId=${PART}`,
  `secret=${SECRET}`,
  "appAddress=https://app.viam.com:443",
];

describe("viam-json-args: credentials reach mcconfig whole, whatever the secret holds", () => {
  it("`-- command …` runs the command with each credential as one argument", (t) => {
    const { viamJson, printArgs } = setup(t);
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", tool, viamJson, "--", process.execPath, printArgs, "-p", "esp32", "ssid=My WiFi"],
      { cwd: root, encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), expected(["-p", "esp32", "ssid=My WiFi"]));
  });

  it("the printed form survives `eval` in sh", (t) => {
    const { viamJson, printArgs } = setup(t);
    const script = `CREDS=$(node --import tsx "$TOOL" "$VIAM") && eval "node \\"\\$PRINT\\" -p esp32 $CREDS"`;
    const run = spawnSync("sh", ["-c", script], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TOOL: tool, VIAM: viamJson, PRINT: printArgs },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), expected(["-p", "esp32"]));
  });

  it("a damaged viam.json names the file and runs nothing", (t) => {
    const { dir, printArgs } = setup(t);
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, "{ not json");
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", tool, bad, "--", process.execPath, printArgs],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    assert.equal(run.status, 1);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /bad\.json: viam\.json is not JSON/);
  });
});
