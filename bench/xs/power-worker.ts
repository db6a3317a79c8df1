/*
 * Node side of the power bench: runs battery-mode wakes inside the XS engine
 * (@agoric/xsnap), one evaluate per wake, and reads the worker's meter
 * (`compute`: deterministic computrons) for each. Loads @endo/init (SES
 * lockdown), so it runs in its own process:
 *   node --import tsx bench/xs/power-worker.ts <hz> <syncMins> <wakes>  → one JSON line
 */
import "@endo/init";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
// @ts-expect-error: @agoric/xsnap ships no type declarations
import { xsnap } from "@agoric/xsnap";
// @ts-expect-error: a plain .mjs script without types
import { bundle } from "../../scripts/xs-lane.mjs";

const root = path.resolve(import.meta.dirname, "../..");

export interface WakeSample {
  kind: "capture" | "sync";
  computrons: number;
  programs: number;
  programBytes: number;
  erases: number;
  requests: number;
  uploadBytes: number;
  sleepMs: number;
  rtcMs: number;
}

let tmpCounter = 0;
const tmpName = (_opts: unknown, cb: (e: null, name: string) => void) =>
  cb(null, path.join(os.tmpdir(), `capsync-power-xs-${process.pid}-${tmpCounter++}`));

export async function runWakes(hz: number, syncMins: number, wakes: number): Promise<WakeSample[]> {
  const decoder = new TextDecoder();
  let last: Record<string, unknown> | undefined;
  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fsp, ...fs, tmpName },
    name: "capsync-power-xs",
    meteringLimit: 0,
    stdout: "inherit",
    stderr: "inherit",
    handleCommand: async (bytes: Uint8Array) => {
      last = JSON.parse(decoder.decode(bytes));
      return new Uint8Array(0);
    },
  } as never);
  const samples: WakeSample[] = [];
  try {
    const script = await bundle(path.join(root, "bench/xs/power-wakes.ts"));
    await worker.evaluate(`globalThis.console = { log: (...a) => print(a.join(" ")) }; ${script}`);
    await worker.evaluate(`__powerSetup(${hz}, ${syncMins});`);
    for (let i = 0; i < wakes; i++) {
      last = undefined;
      const result = await worker.evaluate("__powerWake();");
      const compute = (result.meterUsage as { compute: number }).compute;
      if (!last) throw new Error(`wake ${i} sent no report (its promise did not settle within the evaluate)`);
      samples.push({ ...(last as Omit<WakeSample, "computrons">), computrons: compute });
    }
  } finally {
    await worker.close().catch(() => {});
  }
  return samples;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [hz, syncMins, wakes] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(await runWakes(hz!, syncMins!, wakes!)));
}
