// StrykerJS over modules/sync: every mutant is run against the sync tests and the data manager's
// (node:test, TAP; fake clocks and in-memory fakes, so each file runs in about a second).
// The isolation tests' multi-hour fake-time runs take 2 h instead of 6 per mutant (inherited by the test processes).
process.env.SYNC_ISOLATION_HOURS ??= "2";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "tap",
  plugins: ["@stryker-mutator/tap-runner"],
  mutate: ["modules/sync/**/*.ts"],
  tap: {
    testFiles: ["host-tests/core/sync-*.test.ts", "host-tests/core/manager.test.ts"],
    nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
  },
  coverageAnalysis: "perTest",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/sync/index.html" },
  jsonReporter: { fileName: "reports/mutation/sync/mutation.json" },
  tempDirName: ".stryker-tmp/sync",
  concurrency: 2,
  timeoutMS: 60000,
};
