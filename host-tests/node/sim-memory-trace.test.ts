// The simulator's memory trace (modules/platform/lin/memory-trace.ts) and the lane that reads it
// (host-tests/sim/memory.ts) must agree on one line format: the app's formatPeaks, bundled with stubs
// for Moddable's timer and the native probe, is parsed back by the lane's parsePeaks to the same
// figures. And the 32-bit estimate takes 8 bytes per chunk and half of the slot arrays off.
import assert from "node:assert/strict";
import * as path from "node:path";
import { type TestContext, test } from "node:test";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { parsePeaks } from "../sim/memory";
import { tempDir } from "../support/temp-dir";

const root = path.resolve(import.meta.dirname, "../..");

interface Trace {
  formatPeaks(p: Record<string, number>): string;
  chunkBytesOn32Bit(chunkBytes: number, chunks: number, slotArrayBytes: number): number;
}

async function loadTrace(t: TestContext): Promise<Trace> {
  const outfile = path.join(tempDir(t, "memory-trace"), "memory-trace.mjs");
  await esbuild.build({
    entryPoints: [path.join(root, "modules/platform/lin/memory-trace.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "silent",
    plugins: [
      {
        name: "stubs",
        setup(build) {
          build.onResolve({ filter: /^timer$|\/memory-probe$/ }, (args) => ({
            path: args.path,
            namespace: "stub",
          }));
          build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
            contents: "export default {}; export function sampleMemory() {}",
          }));
        },
      },
    ],
  });
  return (await import(pathToFileURL(outfile).href)) as Trace;
}

test("sim memory: the app's trace line parses back to its figures", async (t) => {
  const { formatPeaks } = await loadTrace(t);
  const peaks = {
    slots: 3369,
    slotPool: 4927,
    chunkBytes: 73656,
    chunkPool: 98560,
    chunkBytes32: 61220,
    stackSlots: 499,
  };
  const line = `capsync 83.597 info ${formatPeaks(peaks)}`;
  assert.deepEqual(parsePeaks(["noise", line, "more noise"]), peaks);
  // A release build has no stack peak, a failed chunk walk no estimate: both parse as unknown.
  const unknown = formatPeaks({ ...peaks, chunkBytes32: -1, stackSlots: -1 });
  assert.deepEqual(parsePeaks([unknown]), { ...peaks, chunkBytes32: undefined, stackSlots: undefined });
  // The last line wins (the peaks only rise); no line, no figures.
  const later = formatPeaks({ ...peaks, slots: 3400 });
  assert.equal(parsePeaks([line, later])?.slots, 3400);
  assert.equal(parsePeaks(["capsync 1.0 info boot: capsync starting"]), undefined);
});

test("sim memory: the 32-bit estimate of chunk bytes", async (t) => {
  const { chunkBytesOn32Bit } = await loadTrace(t);
  // 500 chunks lose 8 header bytes each; 10,000 bytes of 32-byte slots become 5,000 of 16-byte ones.
  assert.equal(chunkBytesOn32Bit(73656, 500, 10000), 73656 - 4000 - 5000);
  assert.equal(chunkBytesOn32Bit(73656, -1, 10000), -1);
});
