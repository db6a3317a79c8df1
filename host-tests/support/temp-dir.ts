// Temporary directories for Node tests: each is removed when the test that made it
// ends, passed or failed, so test runs leave nothing behind in the system's temp dir.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestContext } from "node:test";

/** A new empty directory `<tmp>/capsync-<prefix>-XXXXXX`, removed after test `t`. */
export function tempDir(t: Pick<TestContext, "after">, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capsync-${prefix}-`));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
