/*
 * Simulator lane, memory: the capsync app built for lin with the XS pools of
 * the ESP32 boards (`creation` from boards/esp32-common.json, no growth),
 * run in mcsim against a local cloud over TLS on loopback, through capture,
 * a cloud outage (a backlog in flash), the drain once the cloud is back and
 * the reconnect with a new TLS handshake. The app samples its own live memory
 * after a full collection every 100 ms (modules/platform/lin/memory-trace.ts,
 * on in this build only) and traces the peaks; this file parses them and
 * prints
 *
 *   esp32-memory: peak S slots of P, C chunk bytes of Q (…32-bit estimate E…)
 *
 * The slot pool and the stack are the boards' exactly: a slot count does not
 * depend on the pointer size. The chunk pool is in bytes, and on this 64-bit
 * host the same live data takes ~17-20 % more of them (16-byte chunk headers
 * instead of 8, 32-byte slots inside arrays and suspended async frames
 * instead of 16). So the host's chunk pool is Q × HOST_CHUNK_ALLOWANCE, fixed,
 * and the gate is the device's: the 32-bit estimate E of the peak must stay
 * within Q. CAPSYNC_MEMORY_CHUNK_ALLOWANCE=1 runs with Q itself (the host then
 * has no room for its wider pointers; docs/esp32.md has what that run shows).
 *
 * The check fails if the app aborts (XS "memory full" with a fixed pool), if
 * the figures are missing, if the pools are not the ones built, if E > Q, or
 * if the run did not go through every phase (readings captured during the
 * outage all in the cloud, a second TLS handshake). Standalone:
 * node --import tsx host-tests/sim/memory.ts [--verbose]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCloud } from "../../tools/cloud/index";
import { SIM_COLLECTORS, SIM_PART_ID, SIM_SECRET, simMachineConfig } from "../../tools/sim/scenario";
import {
  buildApp,
  defaultBuildDir,
  findSdk,
  root,
  runApp,
  type SdkPaths,
  sleep,
} from "../../tools/sim/simulator";

/** The IMU rate of this run: 2 × 50 readings/s plus the env sensor at 2/s. */
const IMU_HZ = 50;
/** The host's chunk pool over the boards' (64-bit pointers; see the header); CAPSYNC_MEMORY_CHUNK_ALLOWANCE overrides. */
export const HOST_CHUNK_ALLOWANCE = Number(process.env.CAPSYNC_MEMORY_CHUNK_ALLOWANCE ?? 1.25);
/** How long the cloud refuses connections: the backlog the drain must clear. */
const OUTAGE_MS = 40_000;

export interface MemoryPeaks {
  slots: number;
  slotPool: number;
  chunkBytes: number;
  chunkPool: number;
  /** Undefined when the app could not walk its chunks. */
  chunkBytes32: number | undefined;
  /** Undefined in a release build. */
  stackSlots: number | undefined;
}

const PEAK_LINE =
  /memory: peak (\d+) slots of (\d+), (\d+) chunk bytes of (\d+) \(32-bit estimate (\d+|unknown)\), stack (\d+|unknown) slots/;

/** The figures of the app's last `memory: peak …` trace line, or undefined when there is none. */
export function parsePeaks(lines: readonly string[]): MemoryPeaks | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PEAK_LINE.exec(lines[i]!);
    if (!m) continue;
    return {
      slots: Number(m[1]),
      slotPool: Number(m[2]),
      chunkBytes: Number(m[3]),
      chunkPool: Number(m[4]),
      chunkBytes32: m[5] === "unknown" ? undefined : Number(m[5]),
      stackSlots: m[6] === "unknown" ? undefined : Number(m[6]),
    };
  }
  return undefined;
}

interface Creation {
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
}

export function esp32Creation(): Creation {
  const board = JSON.parse(fs.readFileSync(path.join(root, "boards/esp32-common.json"), "utf8"));
  return board.creation as Creation;
}

/**
 * A manifest that is the app's own plus the ESP32 boards' `creation` (it is
 * merged last, so it wins over the lin defaults) and the test cloud's CA as a
 * resource. Returns the manifest's path.
 */
export function writeMemoryManifest(dir: string, creation: Creation, caDer: Uint8Array): string {
  const appDir = path.join(dir, "capsync-esp32-memory");
  fs.mkdirSync(appDir, { recursive: true });
  fs.writeFileSync(path.join(appDir, "cloud-ca.der"), caDer);
  const manifest = {
    include: [path.join(root, "manifest.json")],
    creation,
    resources: { "*": ["./cloud-ca"] },
  };
  const file = path.join(appDir, "manifest.json");
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

export interface MemoryRunResult {
  peaks: MemoryPeaks;
  line: string;
  tlsHandshakes: number;
  outageReadings: number;
}

function fail(message: string): never {
  throw new Error(message);
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

export async function memoryRun(sdk: SdkPaths, verbose = false): Promise<MemoryRunResult> {
  const creation = esp32Creation();
  if (creation.chunk.incremental !== 0 || creation.heap.incremental !== 0) {
    fail("boards/esp32-common.json lets a pool grow: the run would prove nothing");
  }
  if (!(HOST_CHUNK_ALLOWANCE >= 1 && HOST_CHUNK_ALLOWANCE <= 1.5))
    fail(`chunk allowance ${HOST_CHUNK_ALLOWANCE} outside 1..1.5`);
  const hostChunkPool = Math.round((creation.chunk.initial * HOST_CHUNK_ALLOWANCE) / 8) * 8;
  const built: Creation = { ...creation, chunk: { initial: hostChunkPool, incremental: 0 } };
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-sim-memory-"));
  const simRoot = path.join(workDir, "flash");
  fs.mkdirSync(simRoot);
  const cloud = await startCloud({
    port: 0,
    dbPath: path.join(workDir, "cloud.db"),
    parts: [{ id: SIM_PART_ID, secret: SIM_SECRET }],
    machineConfig: simMachineConfig(IMU_HZ),
    tls: true,
  });
  let sim: Awaited<ReturnType<typeof runApp>> | undefined;
  try {
    // A build folder of its own, kept between runs like the lane's (mcconfig then rebuilds only what changed).
    const buildDir = `${defaultBuildDir()}-esp32-memory`;
    if (!cloud.caDer) fail(`the cloud is not TLS (${cloud.url})`);
    const manifest = writeMemoryManifest(buildDir, built, cloud.caDer);
    const so = await buildApp({
      sdk,
      outDir: buildDir,
      manifest,
      config: {
        partId: SIM_PART_ID,
        secret: SIM_SECRET,
        appAddress: cloud.url,
        cloudCa: "cloud-ca.der",
        simRoot: `${simRoot}/`,
        memoryProbe: "1",
      },
      onLine: verbose ? (line) => console.log(`  build | ${line}`) : undefined,
    });
    sim = await runApp({
      sdk,
      so,
      onLine: (line) => {
        if (verbose) console.log(`  device | ${line}`);
      },
    });
    const app = sim;
    const aborted = (): string | undefined => {
      const line = app.lines.find((l) => /memory full|not enough memory|XS abort|stack overflow/i.test(l));
      if (line) return `the app aborted: ${line}`;
      if (app.exit) return `mcsim ended (${app.exit.signal ?? `exit ${app.exit.code}`})`;
      return undefined;
    };
    const guarded = async (what: string, condition: () => boolean, timeoutMs: number): Promise<void> =>
      waitUntil(
        what,
        () => {
          const why = aborted();
          if (why) fail(`${why} (while waiting for ${what})`);
          return condition();
        },
        timeoutMs,
      );
    const count = (c: { component: string; method: string }): number =>
      cloud.count({ componentName: c.component, methodName: c.method });

    // Capture and sync over TLS.
    await guarded(
      "the app to boot over TLS",
      () => app.lines.some((l) => /capture: started/.test(l)),
      60_000,
    );
    await guarded("readings from every collector", () => SIM_COLLECTORS.every((c) => count(c) >= 10), 90_000);
    const handshakesBefore = cloud.stats.tlsHandshakes;
    if (handshakesBefore < 1) fail("no TLS handshake with the cloud");

    // The outage: the backlog grows in flash.
    await cloud.refuse();
    const outageStart = Date.now();
    await sleep(OUTAGE_MS);
    if (aborted()) fail(aborted()!);
    const outageEnd = Date.now();
    await cloud.accept();

    // The drain and the reconnect (a new TLS handshake): sync is oldest first, so once a reading
    // captured after the outage is in the cloud, everything captured during it is too.
    const newest = (c: { component: string; method: string }): number => {
      const rows = cloud.readings({ componentName: c.component, methodName: c.method });
      let max = 0;
      for (const r of rows) max = Math.max(max, r.timeRequestedMs ?? 0);
      return max;
    };
    await guarded(
      "the backlog to drain",
      () => SIM_COLLECTORS.every((c) => newest(c) > outageEnd + 2_000),
      180_000,
    );
    const tlsHandshakes = cloud.stats.tlsHandshakes;
    if (tlsHandshakes <= handshakesBefore) fail("no new TLS handshake after the outage");
    const imu = SIM_COLLECTORS[1]!;
    const outageReadings = cloud
      .readings({ componentName: imu.component, methodName: imu.method })
      .filter((r) => (r.timeRequestedMs ?? 0) >= outageStart && (r.timeRequestedMs ?? 0) < outageEnd).length;
    // At 50 Hz the outage holds ~2,000 readings per IMU collector; a ring that lost some would say so.
    const expected = (IMU_HZ * (outageEnd - outageStart)) / 1000;
    if (outageReadings < expected * 0.8) {
      fail(
        `only ${outageReadings} of ~${Math.round(expected)} readings captured during the outage reached the cloud`,
      );
    }
    // A few more seconds of steady capture and sync after the drain, then one last report.
    await sleep(6_000);
    if (aborted()) fail(aborted()!);
    const peaks =
      parsePeaks(app.lines) ?? fail("the app traced no `memory: peak …` line (memoryProbe build?)");
    if (peaks.slotPool !== creation.heap.initial - 1 || peaks.chunkPool !== hostChunkPool) {
      fail(
        `the app ran with pools of ${peaks.slotPool} slots and ${peaks.chunkPool} chunk bytes, not the ${creation.heap.initial - 1} and ${hostChunkPool} built`,
      );
    }
    const q = creation.chunk.initial;
    const estimate = peaks.chunkBytes32;
    const line =
      `esp32-memory: peak ${peaks.slots} slots of ${peaks.slotPool}, ${peaks.chunkBytes} chunk bytes of ${q}` +
      ` (measured on the 64-bit host in a fixed pool of ${hostChunkPool}; 32-bit estimate ${estimate ?? "unknown"} of ${q})` +
      (peaks.stackSlots === undefined ? "" : `; stack ${peaks.stackSlots} of ${creation.stack} slots`) +
      `; ${outageReadings} readings per IMU collector from a ${OUTAGE_MS / 1000} s outage drained; ${tlsHandshakes} TLS handshakes`;
    if (estimate === undefined) fail(`no 32-bit estimate (the app's chunk walk did not add up): ${line}`);
    if (estimate > q) fail(`the 32-bit estimate of the chunk peak is over the boards' pool: ${line}`);
    return { peaks, line, tlsHandshakes, outageReadings };
  } catch (error) {
    if (sim && !verbose) {
      console.log("sim: last trace lines of the memory run:");
      for (const l of sim.lines.slice(-25)) console.log(`  device | ${l}`);
    }
    throw error;
  } finally {
    await sim?.stop();
    await cloud.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** The lane's check: runs the memory build and prints the `esp32-memory:` line. */
export async function memoryCheck(sdk: SdkPaths, verbose = false): Promise<void> {
  const result = await memoryRun(sdk, verbose);
  console.log(result.line);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sdk = findSdk();
  if (typeof sdk === "string") {
    console.error(`memory: cannot run: ${sdk}`);
    process.exit(2);
  }
  try {
    await memoryCheck(sdk, process.argv.includes("--verbose"));
  } catch (error) {
    console.log(`FAIL memory: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
