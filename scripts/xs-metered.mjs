// XS lane, metered part: runs host-tests/xs-metered/*.metered.ts (each in its own Node process, since
// it loads SES to drive an xsnap worker) and counts their `ok` / `FAIL` lines. A file that exits
// non-zero without a FAIL line counts as one failure.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export function runMetered(root, filter, totals) {
  let { passed, failed } = totals;
  const dir = path.join(root, "host-tests/xs-metered");
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".metered.ts"))
        .map((f) => path.join(dir, f))
        .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
        .sort()
    : [];
  for (const file of files) {
    const rel = path.relative(root, file);
    const run = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: root, encoding: "utf8" });
    let fails = 0;
    for (const line of (run.stdout ?? "").split("\n")) {
      if (line.startsWith("ok   ")) {
        passed++;
        console.log(`ok   ${rel} › ${line.slice(5)}`);
      } else if (line.startsWith("FAIL ")) {
        fails++;
        console.log(`FAIL ${rel} › ${line.slice(5)}`);
      }
    }
    if (run.status !== 0 && fails === 0) {
      fails++;
      console.log(`FAIL ${rel}: exit ${run.status}\n${(run.stderr ?? "").split("\n").slice(-15).join("\n")}`);
    }
    failed += fails;
  }
  return { passed, failed };
}
