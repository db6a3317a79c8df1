/*
 * The mcconfig provisioning arguments for a viam.json (partId, secret,
 * appAddress), checked with the firmware's own parser, so a bad file fails
 * here with the same message the device would log. Used for ESP32 builds and
 * the simulator alike (docs/esp32.md, "Provisioning").
 *
 * Run a command with them appended as separate arguments — no shell ever
 * splits or expands the secret, whatever characters it holds:
 *
 *   node --import tsx tools/sim/viam-json-args.ts viam.json -- mcconfig -d -m -p esp32 ssid=… password=…
 *
 * Or print them shell-quoted, one line, for `eval`:
 *
 *   node --import tsx tools/sim/viam-json-args.ts viam.json
 *   → partId=… secret='…' appAddress=…
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { parseViamJson } from "../../modules/app/credentials";

const usage = "usage: node --import tsx tools/sim/viam-json-args.ts viam.json [-- command args…]";
const [file, separator, ...command] = process.argv.slice(2);
if (!file || (separator !== undefined && (separator !== "--" || command.length === 0))) {
  console.error(usage);
  process.exit(2);
}

let args: string[];
try {
  const { partId, secret, appAddress } = parseViamJson(fs.readFileSync(file, "utf8"));
  args = [`partId=${partId}`, `secret=${secret}`, `appAddress=${appAddress}`];
} catch (error) {
  console.error(`${file}: ${(error as Error).message}`);
  process.exit(1);
}

if (command.length > 0) {
  const result = spawnSync(command[0]!, [...command.slice(1), ...args], { stdio: "inherit" });
  if (result.error) {
    console.error(`${command[0]}: ${result.error.message}`);
    process.exit(127);
  }
  process.exit(result.status ?? 1);
}
/** POSIX single quotes: safe in sh, bash and zsh for any byte but NUL. */
const quote = (value: string): string =>
  /^[\w.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
console.log(args.map(quote).join(" "));
