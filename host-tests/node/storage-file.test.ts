// The file-backed NOR image (host/flash-file.ts) keeps the store across
// process restarts, torn operations included.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type TestContext, test } from "node:test";
import { FileFlash } from "../../host/flash-file";
import { openRingStore } from "../../modules/storage/ring-store";
import { tempDir } from "../support/temp-dir";

const child = path.join(import.meta.dirname, "../support/flash-file-child.ts");
const SIZE = 16 * 4096;

function tempImage(t: TestContext): string {
  return path.join(tempDir(t, "flash"), "capture.img");
}

function runChild(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["--import", "tsx", child, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("a missing image file is created blank; one of the wrong size is replaced", (t) => {
  const file = tempImage(t);
  const a = new FileFlash({ path: file, size: SIZE });
  assert.equal(a.created, true);
  assert.equal(fs.statSync(file).size, SIZE);
  assert.ok(fs.readFileSync(file).every((b) => b === 0xff));
  a.write(10, new Uint8Array([1, 2, 3]));
  a.close();
  const b = new FileFlash({ path: file, size: SIZE });
  assert.equal(b.created, false);
  const out = new Uint8Array(3);
  b.read(10, out);
  assert.deepEqual(out, new Uint8Array([1, 2, 3]));
  b.close();
  const c = new FileFlash({ path: file, size: SIZE * 2 });
  assert.equal(c.created, true);
  assert.equal(fs.statSync(file).size, SIZE * 2);
  c.close();
});

test("records and sync point written by one process are found by the next", (t) => {
  const file = tempImage(t);
  const first = runChild(file, "250", "100");
  assert.deepEqual(first, { next: 251, sync: 100 });
  const flash = new FileFlash({ path: file, size: SIZE });
  const store = openRingStore({ flash, retainUnsynced: true });
  const ring = store.ring("k")!;
  assert.equal(ring.syncPoint, 100);
  const chunk = ring.read(1 << 20)!;
  assert.equal(chunk.firstSeq, 101);
  assert.equal(chunk.lastSeq, 250);
  chunk.records.forEach((r, i) => {
    assert.deepEqual(r, new Uint8Array(3).fill((101 + i) & 0xff));
  });
  flash.close();
  // A third process with the default rule discards those 150 and carries on.
  const third = runChild(file, "10", "0");
  assert.deepEqual(third, { next: 261, sync: 250 });
});

test("a torn operation reaches the file, and the next process recovers from it", (t) => {
  for (const cutAt of [0, 1, 2]) {
    const file = tempImage(t);
    runChild(file, "120", "120");
    const cut = runChild(file, "150", "50", String(cutAt));
    assert.deepEqual(cut, { cut: true }, `cut at ${cutAt}`);
    const flash = new FileFlash({ path: file, size: SIZE });
    const ring = openRingStore({ flash, retainUnsynced: true }).ring("k")!;
    assert.ok([120, 170].includes(ring.syncPoint), `cut at ${cutAt}: sync point ${ring.syncPoint}`);
    const chunk = ring.read(1 << 20);
    if (chunk) {
      assert.ok(chunk.firstSeq > ring.syncPoint);
      chunk.records.forEach((r, i) => {
        assert.deepEqual(r, new Uint8Array(3).fill((chunk.firstSeq + i - 120) & 0xff), `cut at ${cutAt}`);
      });
    }
    flash.close();
  }
});

test("what a torn program left is exactly what the file holds", (t) => {
  const file = tempImage(t);
  const a = new FileFlash({ path: file, size: SIZE });
  a.armPowerCut({ atOperation: 0, tear: "bits", seed: 11 });
  assert.throws(() => a.write(100, new Uint8Array(64)), /power cut/);
  const torn = a.bytes.slice(100, 164);
  assert.ok(torn.some((b) => b !== 0xff) && torn.some((b) => b !== 0), "the tear was not partial");
  a.close();
  const b = new FileFlash({ path: file, size: SIZE });
  const out = new Uint8Array(64);
  b.read(100, out);
  assert.deepEqual(out, torn);
  b.close();
});
