// The Stryker options shared by stryker/<area>.config.mjs: each area mutates modules/<area>/ and runs
// its tests through stryker/harness-runner.mjs (one long-lived worker, only the tests that cover a
// mutant, fastest first). `CAPSYNC_MUTATION_PART=<file>` mutates modules/<area>/<file>.ts alone:
// scripts/mutation.mjs runs one part per file, so only that file is instrumented and the code the
// tests lean on elsewhere (the CRC loop, the NOR emulation, the fakes) runs at full speed.
import * as fs from "node:fs";

/**
 * @param {string} area
 * @param {(file: string) => boolean} isTestFile  names in host-tests/core/
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function areaConfig(area, isTestFile) {
  // The seeded soaks run a fraction of their cases per mutant (host-tests/support/mutation-scale.ts).
  process.env.CAPSYNC_MUTATION = "1";
  const part = process.env.CAPSYNC_MUTATION_PART;
  const dir = part ? `reports/mutation/${area}/${part}` : `reports/mutation/${area}`;
  const testFiles = fs
    .readdirSync("host-tests/core")
    .filter(isTestFile)
    .sort()
    .map((f) => `host-tests/core/${f}`);
  return {
    testRunner: "capsync-harness",
    plugins: ["./stryker/harness-runner.mjs"],
    mutate: part ? [`modules/${area}/${part}.ts`] : [`modules/${area}/**/*.ts`],
    harness: { testFiles },
    // Every area's and part's sandboxes live under .stryker-tmp/: none is copied into another's.
    ignorePatterns: ["/.stryker-tmp", "/build", "/.data"],
    // Type checks are not run (tsx strips types); nothing to disable.
    disableTypeChecks: false,
    coverageAnalysis: "perTest",
    incremental: true,
    incrementalFile: `${dir}/stryker-incremental.json`,
    reporters: ["clear-text", "progress", "html", "json", "capsync-survivors"],
    htmlReporter: { fileName: `${dir}/index.html` },
    jsonReporter: { fileName: `${dir}/mutation.json` },
    tempDirName: `.stryker-tmp/${area}${part ? `-${part}` : ""}`,
    concurrency: 1,
    // Over the test time measured in the dry run: a loaded 2-core machine must not turn a slow run into a "timeout" kill.
    timeoutFactor: 2,
    timeoutMS: 5000,
  };
}
