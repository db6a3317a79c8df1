// StrykerJS over modules/storage: every mutant is run against the storage tests (node:test, TAP).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "tap",
  plugins: ["@stryker-mutator/tap-runner"],
  mutate: ["modules/storage/**/*.ts"],
  tap: {
    testFiles: ["host-tests/core/storage-*.test.ts"],
    nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
  },
  coverageAnalysis: "perTest",
  reporters: ["clear-text", "progress", "html"],
  htmlReporter: { fileName: "reports/mutation/storage/index.html" },
  tempDirName: ".stryker-tmp",
  concurrency: 2,
  timeoutMS: 60000,
};
