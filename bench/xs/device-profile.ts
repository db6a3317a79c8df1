/*
 * Runs inside the XS engine (driven by `node --import tsx bench/xs/device-worker.ts profile`): where the
 * computrons of one reading go, per function. The stages of bench/xs/device-entry.ts run with every
 * method of capsync's hot-path classes wrapped in a meter probe that records the method's calls, its
 * inclusive computrons and its self computrons (inclusive minus its wrapped callees).
 *
 * A probe costs bytecodes itself. Its cost is calibrated on an empty method and taken off (from the
 * method's own figures and from its caller's), so the figures are close to, not exactly, what the code
 * costs without probes: use them to rank, the stage totals of `npm run bench -- device` to measure.
 * Module-level functions (crc32Update, putVarint, …) cannot be wrapped: their cost shows in the self
 * computrons of the method that calls them. The CRC is measured apart (`crcCost`).
 */
import { BlockWriter } from "../../modules/capture/block-writer";
import { Capture } from "../../modules/capture/capture";
import { Collector } from "../../modules/capture/collector";
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { DataManager } from "../../modules/manager/data-manager";
import { ProtoWriter } from "../../modules/proto/writer";
import { GrpcWebClient } from "../../modules/rpc/client";
import { CloudClient } from "../../modules/rpc/cloud-client";
import { crc32Update } from "../../modules/storage/crc32";
import { FlashRing } from "../../modules/storage/flash-ring";
import { FlashRingStore } from "../../modules/storage/ring-store";
import { ChunkUploader } from "../../modules/sync/chunk-uploader";
import { SyncService } from "../../modules/sync/sync-service";
import "./device-entry";

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const resetMeter: (limit: number, index: number) => number;

function meterNow(): number {
  const m = resetMeter(0, 0);
  resetMeter(0, m);
  return m;
}

interface Entry {
  calls: number;
  total: number;
  self: number;
}

const table = new Map<string, Entry>();
/** Per open frame: inclusive computrons of its probed callees, and probe overhead inside it. */
const childStack: number[] = [];
const overheadStack: number[] = [];
let enabled = false;
/** A probed empty method's measured body (meter reads and `apply`), and the probe cost outside it. */
let innerCost = 0;
let outerCost = 0;

function probe(label: string, fn: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...args: unknown[]) {
    if (!enabled) return fn.apply(this, args);
    const t0 = meterNow();
    childStack.push(0);
    overheadStack.push(0);
    const t1 = meterNow();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } finally {
      const t2 = meterNow();
      const children = childStack.pop()!;
      const inside = overheadStack.pop()!;
      const total = t2 - t1 - innerCost - inside;
      let e = table.get(label);
      if (!e) {
        e = { calls: 0, total: 0, self: 0 };
        table.set(label, e);
      }
      e.calls++;
      e.total += total;
      e.self += total - children;
      const t3 = meterNow();
      const top = childStack.length - 1;
      if (top >= 0) {
        childStack[top]! += total;
        overheadStack[top]! += t3 - t0 - (t2 - t1) + innerCost + inside + outerCost;
      }
    }
    return result;
  };
}

function wrapClass(name: string, cls: { prototype: object }): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(proto, key)!;
    if (typeof d.value !== "function") continue;
    Object.defineProperty(proto, key, { ...d, value: probe(`${name}.${key}`, d.value) });
  }
}

class Calibrate {
  empty(): void {}
  outer(n: number): void {
    for (let i = 0; i < n; i++) this.empty();
  }
}
const direct = new Calibrate();

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  for (const [name, cls] of [
    ["Capture", Capture],
    ["Collector", Collector],
    ["BlockWriter", BlockWriter],
    ["FlashRing", FlashRing],
    ["FlashRingStore", FlashRingStore],
    ["SensorDataTranscoder", SensorDataTranscoder],
    ["ProtoWriter", ProtoWriter],
    ["ChunkUploader", ChunkUploader],
    ["SyncService", SyncService],
    ["CloudClient", CloudClient],
    ["GrpcWebClient", GrpcWebClient],
    ["DataManager", DataManager],
  ] as const)
    wrapClass(name, cls);
  // Calibration: a probed empty method should show 0; its caller should show what it shows with a plain one.
  const proto = Calibrate.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const plainEmpty = proto.empty!;
  const plainOuter = proto.outer!;
  enabled = true;
  proto.empty = probe("cal.empty", plainEmpty);
  proto.outer = probe("cal.outer", plainOuter);
  direct.outer(100);
  innerCost = table.get("cal.empty")!.total / 100;
  table.clear();
  direct.outer(100);
  const probedTotal = table.get("cal.outer")!.total;
  table.clear();
  proto.empty = plainEmpty;
  direct.outer(100);
  const plainTotal = table.get("cal.outer")!.total;
  outerCost = (probedTotal - plainTotal) / 100;
  table.clear();
  proto.outer = plainOuter;
  enabled = false;
}

const dev = (globalThis as Record<string, unknown>).__dev as Record<string, (...a: unknown[]) => unknown>;

function report(stage: string, readings: number): void {
  const rows = [...table.entries()]
    .map(([label, e]) => ({
      label,
      calls: e.calls / readings,
      self: e.self / readings,
      total: e.total / readings,
    }))
    .filter((r) => r.total > 0.5 || r.self > 0.5)
    .sort((a, b) => b.self - a.self);
  issueCommand(
    new TextEncoder().encode(JSON.stringify({ kind: "profile", stage, readings, innerCost, outerCost, rows }))
      .buffer as ArrayBuffer,
  );
  table.clear();
}

/** Profile one stage: warm it up, then meter `readings` readings with probes on. */
function profile(stage: "capture" | "store" | "sync", kind: "imu" | "env", readings: number): void {
  install();
  if (stage === "capture") {
    dev.captureStage!(kind, readings);
    enabled = true;
    dev.captureStage!(kind, readings);
    enabled = false;
    report(`${stage} ${kind}`, readings);
  } else if (stage === "store") {
    dev.storeStage!(kind, readings);
    enabled = true;
    dev.storeStage!(kind, readings);
    enabled = false;
    report(`${stage} ${kind}`, readings);
  }
}

async function profileSync(kind: "imu" | "env", readings: number): Promise<void> {
  install();
  dev.syncPrepare!(kind, readings, `p-${kind}`);
  enabled = true;
  await dev.syncRun!(`p-${kind}`);
  enabled = false;
  dev.syncReport!(`p-${kind}`);
  report(`sync ${kind}`, readings);
}

/** Computrons of crc32Update over `bytes` bytes, per byte, for a few sizes. */
function crcCost(): void {
  const buf = new Uint8Array(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
  const rows: { bytes: number; computrons: number }[] = [];
  for (const n of [8, 16, 32, 64, 256, 1024, 4096]) {
    const t = meterNow();
    crc32Update(0xffffffff, buf, 0, n);
    rows.push({ bytes: n, computrons: meterNow() - t });
  }
  issueCommand(new TextEncoder().encode(JSON.stringify({ kind: "crc", rows })).buffer as ArrayBuffer);
}

(globalThis as Record<string, unknown>).__prof = { profile, profileSync, crcCost };
