// StrykerJS over modules/sync: every mutant is run against the sync tests and the data manager's
// (node:test, TAP; fake clocks and in-memory fakes).
// The isolation tests' multi-hour fake-time runs take 2 h instead of 6 per mutant (inherited by the test processes).
process.env.SYNC_ISOLATION_HOURS ??= "2";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "tap",
  plugins: ["@stryker-mutator/tap-runner"],
  mutate: ["modules/sync/**/*.ts"],
  tap: {
    // One process per mutant for all of them (the suite imports the sync tests and the manager's).
    testFiles: ["host-tests/core/sync-mutation.suite.ts"],
    nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
  },
  coverageAnalysis: "all",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/sync/index.html" },
  jsonReporter: { fileName: "reports/mutation/sync/mutation.json" },
  tempDirName: ".stryker-tmp/sync",
  concurrency: 2,
  timeoutMS: 60000,
};
