/*
 * `npm run sim`: build capsync for the Moddable Linux simulator, start a
 * local cloud, run the app headless in mcsim and show its trace live, with a
 * line from the cloud's database every few seconds. Ctrl-C (or `--for
 * SECONDS`) stops everything. Needs a Moddable SDK ($MODDABLE) and Xvfb.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startScenario } from "./scenario";
import { buildApp, defaultBuildDir, findSdk, runApp, sleep } from "./simulator";

const { values } = parseArgs({ options: { for: { type: "string" } } });
const sdk = findSdk();
if (typeof sdk === "string") {
  console.error(`sim: cannot run: ${sdk}. See docs/simulator.md.`);
  process.exit(2);
}
const scenario = await startScenario();
console.log(`sim: local cloud at ${scenario.cloud.url}, database ${path.join(scenario.workDir, "cloud.db")}`);
console.log("sim: building the app for lin (mcconfig -d -m -p lin) …");
const so = await buildApp({
  sdk,
  outDir: defaultBuildDir(),
  config: scenario.buildConfig,
  // Compiler chatter (the SDK's own C warnings) is noise; errors and the summary are not.
  onLine: (line) => {
    if (/error|###/i.test(line) && !/warning/.test(line)) console.log(`  ${line}`);
  },
});
console.log("sim: starting mcsim under Xvfb; trace follows (Ctrl-C stops)");
const sim = await runApp({ sdk, so, onLine: (line) => console.log(`  device | ${line}`) });
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await sim.stop();
  const total = scenario.cloud.count();
  await scenario.close();
  console.log(`sim: stopped; the cloud holds ${total} readings`);
  process.exit(0);
};
process.on("SIGINT", () => void stop());
const until = values.for ? Date.now() + Number(values.for) * 1000 : Number.POSITIVE_INFINITY;
while (Date.now() < until) {
  await sleep(5000);
  const counts = scenario.cloud.counts().map((c) => `${c.componentName}/${c.methodName}=${c.count}`);
  console.log(`  cloud  | ${counts.length ? counts.join("  ") : "no readings yet"}`);
}
await stop();
