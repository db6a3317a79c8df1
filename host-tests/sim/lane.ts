/*
 * Simulator lane: the real Moddable app, built for lin and run headless in
 * mcsim, against a local cloud on an ephemeral loopback port. Every check is
 * judged from the cloud's database or the app's own trace. Stops everything
 * it started and ends with `sim: N passed, M failed`.
 *
 * Run by `npm test` when $MODDABLE is set (scripts/test.mjs prints a visible
 * SKIPPED otherwise), or directly: node --import tsx host-tests/sim/lane.ts
 */
import * as fs from "node:fs";
import { SIM_COLLECTORS, simMachineConfig, startScenario } from "../../tools/sim/scenario";
import {
  buildApp,
  defaultBuildDir,
  findSdk,
  type RunningSimulator,
  runApp,
  sleep,
} from "../../tools/sim/simulator";
import { cloudDyingChecks, startDyingProxy } from "./cloud-dying";
import { memoryCheck } from "./memory";
import { checkBatteryMode } from "./power";
import { tlsCheck } from "./tls";

const verbose = process.argv.includes("--verbose");
let passed = 0;
let failed = 0;

async function check(name: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await body();
    passed++;
    console.log(`ok   sim › ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    console.log(`FAIL sim › ${name}: ${(error as Error).message}`);
  }
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

const sdk = findSdk();
if (typeof sdk === "string") {
  // $MODDABLE is set (test.mjs checked) but the SDK cannot run the app: a failure, not a skip.
  console.log(`FAIL sim › Moddable SDK usable: ${sdk}`);
  console.log("sim: 0 passed, 1 failed");
  process.exit(1);
}

const scenario = await startScenario();
const { cloud } = scenario;
const proxy = await startDyingProxy(cloud.url); // the app calls the cloud through it (cloud-dying.ts)
scenario.buildConfig.appAddress = proxy.url;
let sim: RunningSimulator | undefined;
const onLine = verbose ? (line: string) => console.log(`  device | ${line}`) : undefined;
const countOf = (component: string, method: string): number =>
  cloud.count({ componentName: component, methodName: method });

try {
  let so = "";
  await check("the app builds for lin with mcconfig", async () => {
    so = await buildApp({
      sdk,
      outDir: defaultBuildDir(),
      config: scenario.buildConfig,
      onLine: verbose ? (line) => console.log(`  build | ${line}`) : undefined,
    });
  });
  if (!so) throw new Error("no app to run");

  sim = await runApp({ sdk, so, onLine });
  const running = sim;

  await check("boots, authenticates and applies the cloud's config", async () => {
    await running.waitFor(/config: applied the cloud's config \(revision "1"\)/, 30_000);
    await running.waitFor(/capture: started with 3 collector\(s\)/, 5_000);
    // The store's CRC-32 runs in C (crc32.c), installed after its check against the JavaScript one.
    await running.waitFor(/crc32: native CRC-32 in use/, 5_000);
  });

  await check("readings from every configured collector arrive in the cloud's database", async () => {
    await waitUntil(
      "readings from every collector",
      () => SIM_COLLECTORS.every((c) => countOf(c.component, c.method) >= 5),
      60_000,
    );
    const rows = cloud.readings({ componentName: "imu", methodName: "AngularVelocity" });
    const first = rows[0]!;
    if (!(Math.abs((first.timeReceivedMs ?? 0) - Date.now()) < 120_000)) {
      throw new Error(`reading timestamp ${first.timeReceivedMs} is not recent wall-clock time`);
    }
  });

  await check("a config change in the cloud is applied without a reboot", async () => {
    const before = countOf("imu", "AngularVelocity");
    const revision = cloud.setConfig(simMachineConfig(25));
    await running.waitFor(
      new RegExp(`applied revision "${revision}" \\(was "1"\\) without a reboot`),
      30_000,
    );
    if (running.lines.filter((l) => /boot: capsync starting/.test(l)).length !== 1) {
      throw new Error("the app restarted");
    }
    // 25 Hz now: over 8 s about 200 more, where 10 Hz would give about 80.
    const t0 = Date.now();
    await sleep(8_000);
    await waitUntil(
      "the higher rate to show",
      () => countOf("imu", "AngularVelocity") - before > 120,
      20_000,
    );
    if (Date.now() - t0 > 30_000) throw new Error("the new rate took too long to show");
  });

  await cloudDyingChecks({ sim: running, cloud, proxy, check });

  await check("after a restart (power cut) it captures from the cached config and syncs again", async () => {
    await running.stop();
    const before = countOf("env", "Readings");
    cloud.setConfig(simMachineConfig(25)); // unchanged content; the device must not need it to start
    await cloud.refuse(); // start offline: only the cache can start capture
    sim = await runApp({ sdk, so, onLine });
    const again = sim;
    await again.waitFor(/config: capturing from the cached config/, 20_000);
    await again.waitFor(/config: fetch failed/, 45_000);
    await sleep(3_000);
    await cloud.accept();
    await waitUntil("readings after the restart", () => countOf("env", "Readings") > before + 3, 60_000);
  });
  await check("tls: bad chains refused before a byte is sent, good chains accepted", () =>
    tlsCheck(sdk, verbose),
  );

  await sim?.stop();
  await checkBatteryMode({ sdk, so, cloud, simRoot: scenario.buildConfig.simRoot!, check, onLine });
  await check("memory: the ESP32 boards' XS pools hold capture, an outage, the drain and TLS", () =>
    memoryCheck(sdk, verbose),
  );
} catch (error) {
  failed++;
  console.log(`FAIL sim › lane aborted: ${(error as Error).message}`);
} finally {
  await sim?.stop();
  const summary = SIM_COLLECTORS.map(
    (c) => `${c.component}/${c.method}=${countOf(c.component, c.method)}`,
  ).join(" ");
  console.log(`sim: cloud database holds ${summary}`);
  const stats = cloud.stats;
  console.log(
    `sim: ${stats.uploads} uploads and ${stats.requests.Config ?? 0} config fetches over ${stats.connections} TCP connection(s) (two app runs)`,
  );
  if (failed > 0 && sim && !verbose) {
    console.log("sim: last trace lines of the app:");
    for (const line of sim.lines.slice(-25)) console.log(`  device | ${line}`);
  }
  await proxy.close();
  await scenario.close();
  fs.rmSync(scenario.workDir, { recursive: true, force: true });
}
console.log(`sim: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
