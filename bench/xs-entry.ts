// Run one bench entry inside the XS engine (scripts/xs-run.mjs) and return the
// last JSON message it sent: the figures it measured.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

export function xsFigures<T>(entry: string): T {
  const out = execFileSync(process.execPath, [path.join(root, "scripts/xs-run.mjs"), entry], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}
