// The simulator's flash port (modules/platform/lin/flash.ts), bundled with a
// Node stand-in for its native NOR-image helper (nor-file.c) that follows the
// C semantics: the image persists across instances, NOR rules hold (a refused
// program writes nothing), a wrong-size file is replaced, and the ring store
// runs on it across "restarts".
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type TestContext, test } from "node:test";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import type { FlashPort } from "../../modules/ports";
import { openRingStore } from "../../modules/storage/ring-store";
import { tempDir } from "../support/temp-dir";

const root = path.resolve(import.meta.dirname, "../..");

type LinFlashClass = new (options: {
  path: string;
  size: number;
  sectorSize?: number;
}) => FlashPort & {
  close(): void;
};

async function loadLinFlash(t: TestContext): Promise<LinFlashClass> {
  const dir = tempDir(t, "lin");
  const outfile = path.join(dir, "lin-flash.mjs");
  await esbuild.build({
    entryPoints: [path.join(root, "modules/platform/lin/flash.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    plugins: [
      {
        name: "nor-file",
        setup(build) {
          build.onResolve({ filter: /\/nor-file$/ }, () => ({
            path: path.join(root, "host-tests/support/nor-file-node.ts"),
          }));
        },
      },
    ],
    logLevel: "silent",
  });
  return (await import(pathToFileURL(outfile).href)).LinFlash as LinFlashClass;
}

function tempPath(t: TestContext): string {
  return path.join(tempDir(t, "lin-img"), "capture.nor");
}

test("lin flash: blank image created, NOR rules enforced, contents survive a new instance", async (t) => {
  const LinFlash = await loadLinFlash(t);
  const file = tempPath(t);
  const a = new LinFlash({ path: file, size: 8 * 4096 });
  assert.equal(fs.statSync(file).size, 8 * 4096);
  assert.ok(fs.readFileSync(file).every((x) => x === 0xff));
  a.write(5000, new Uint8Array([0x12, 0x34]));
  assert.throws(() => a.write(5000, new Uint8Array([0x02, 0xff])), /set bits at offset 5001 \(0x34 → 0xff\)/);
  // Refused as a whole: the byte that was allowed (0x12 → 0x02) was not programmed either.
  const kept = new Uint8Array(2);
  a.read(5000, kept);
  assert.deepEqual(kept, new Uint8Array([0x12, 0x34]));
  assert.throws(() => a.read(8 * 4096 - 1, new Uint8Array(2)), /outside/);
  a.eraseSector(0);
  a.close();
  const b = new LinFlash({ path: file, size: 8 * 4096 });
  const out = new Uint8Array(2);
  b.read(5000, out);
  assert.deepEqual(out, new Uint8Array([0x12, 0x34]));
  b.eraseSector(1);
  b.read(5000, out);
  assert.deepEqual(out, new Uint8Array([0xff, 0xff]));
  b.close();
  assert.deepEqual(new Uint8Array(fs.readFileSync(file).subarray(5000, 5002)), new Uint8Array([0xff, 0xff]));
  // Another partition size: the old image is not reused.
  const c = new LinFlash({ path: file, size: 16 * 4096 });
  assert.equal(fs.statSync(file).size, 16 * 4096);
  c.close();
});

test("lin flash: the ring store keeps records and sync point across simulator restarts", async (t) => {
  const LinFlash = await loadLinFlash(t);
  const file = tempPath(t);
  const first = new LinFlash({ path: file, size: 16 * 4096 });
  const store = openRingStore({ flash: first, layout: [{ key: "k", sectors: 4 }] });
  const ring = store.ring("k")!;
  const bytes = new Uint8Array(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  const ends = new Uint32Array(30).map((_, i) => (i + 1) * 10);
  ring.append({ bytes, ends, count: 30 });
  ring.commit(12);
  first.close();
  const second = new LinFlash({ path: file, size: 16 * 4096 });
  const again = openRingStore({ flash: second, retainUnsynced: true }).ring("k")!;
  assert.equal(again.syncPoint, 12);
  const chunk = again.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 13);
  assert.equal(chunk.records.length, 18);
  assert.deepEqual(chunk.records[0], bytes.subarray(120, 130));
  second.close();
});
