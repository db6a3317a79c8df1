// A StrykerJS test runner for the capsync test harness (host-tests/harness): it imports the
// area's test files once into its worker process (TypeScript through tsx), collects every
// `test(name, fn)` through the harness's collector hook, and for each mutant runs only the
// tests that cover it (coverageAnalysis "perTest"), fastest first, stopping at the first
// failure. No process start and no module loading per mutant: the tap runner spent ~2 s
// per test file on that and reran whole files. Static mutants (run while modules load) get a
// fresh worker: `reloadEnvironment` is false, so Stryker restarts the process for them.
//
// Options (in the Stryker config): `harness: { testFiles: ["host-tests/core/x.test.ts", ...] }`.
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { commonTokens, declareClassPlugin, PluginKind, tokens } from "@stryker-mutator/api/plugin";
import { DryRunStatus, MutantRunStatus, TestStatus } from "@stryker-mutator/api/test-runner";
import { register } from "tsx/esm/api";

const NS = "__stryker__";

function ns() {
  globalThis[NS] ??= {};
  return globalThis[NS];
}

function message(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

class HarnessTestRunner {
  static inject = tokens(commonTokens.options, commonTokens.logger);

  constructor(options, log) {
    this.log = log;
    this.testFiles = options.harness?.testFiles ?? [];
    this.tests = undefined; // [{ id, name, fileName, fn }]
    this.byId = new Map();
    this.timeMs = new Map();
  }

  capabilities() {
    return { reloadEnvironment: false };
  }

  async init() {
    if (this.testFiles.length === 0)
      throw new Error("harness runner: no harness.testFiles in the Stryker config");
    register();
  }

  async load() {
    if (this.tests) return;
    const tests = [];
    let file = "";
    globalThis.__capsyncCollectTest = (name, fn) => {
      const id = `${file} > ${name}`;
      tests.push({ id, name, fileName: file, fn });
    };
    for (const f of this.testFiles) {
      file = f;
      await import(pathToFileURL(path.resolve(f)).href);
    }
    this.tests = tests;
    for (const t of tests) this.byId.set(t.id, t);
  }

  async runOne(t, currentTestId) {
    const n = ns();
    n.currentTestId = currentTestId;
    const started = performance.now();
    try {
      await t.fn();
      return {
        id: t.id,
        name: t.id,
        fileName: t.fileName,
        status: TestStatus.Success,
        timeSpentMs: performance.now() - started,
      };
    } catch (error) {
      return {
        id: t.id,
        name: t.id,
        fileName: t.fileName,
        status: TestStatus.Failed,
        failureMessage: message(error),
        timeSpentMs: performance.now() - started,
      };
    } finally {
      n.currentTestId = undefined;
    }
  }

  hitLimitReached() {
    const n = ns();
    if (n.hitCount !== undefined && n.hitLimit !== undefined && n.hitCount > n.hitLimit) {
      return `Hit limit reached (${n.hitCount}/${n.hitLimit})`;
    }
    return undefined;
  }

  async dryRun(options) {
    const n = ns();
    n.activeMutant = undefined;
    n.hitCount = undefined;
    n.hitLimit = undefined;
    n.mutantCoverage = { static: {}, perTest: {} };
    try {
      await this.load();
    } catch (error) {
      return { status: DryRunStatus.Error, errorMessage: `loading the tests failed: ${message(error)}` };
    }
    const perTest = options.coverageAnalysis === "perTest";
    const results = [];
    for (const t of this.tests) {
      const r = await this.runOne(t, perTest ? t.id : undefined);
      this.timeMs.set(t.id, r.timeSpentMs);
      results.push(r);
      if (r.status === TestStatus.Failed && !options.disableBail) break;
    }
    const mutantCoverage = n.mutantCoverage;
    n.mutantCoverage = { static: {}, perTest: {} };
    return { status: DryRunStatus.Complete, tests: results, mutantCoverage };
  }

  async mutantRun(options) {
    const n = ns();
    const id = options.activeMutant.id;
    n.hitLimit = options.hitLimit;
    n.hitCount = options.hitLimit === undefined ? undefined : 0;
    if (options.mutantActivation === "static") n.activeMutant = id;
    try {
      await this.load();
    } catch (error) {
      n.activeMutant = undefined;
      // A static mutant that breaks loading (a thrown error at module level) is killed.
      return {
        status: MutantRunStatus.Killed,
        killedBy: [],
        failureMessage: `loading: ${message(error)}`,
        nrOfTests: 0,
      };
    }
    n.activeMutant = id;
    const selected = options.testFilter
      ? options.testFilter.map((tid) => this.byId.get(tid)).filter(Boolean)
      : [...this.tests];
    // Fastest first: most mutants are killed by a unit test long before the soaks would finish.
    selected.sort((a, b) => (this.timeMs.get(a.id) ?? 0) - (this.timeMs.get(b.id) ?? 0));
    const killedBy = [];
    let failureMessage = "";
    let ran = 0;
    try {
      for (const t of selected) {
        const r = await this.runOne(t, undefined);
        ran++;
        const limit = this.hitLimitReached();
        if (limit) return { status: MutantRunStatus.Timeout, reason: limit };
        if (r.status === TestStatus.Failed) {
          killedBy.push(t.id);
          failureMessage ||= r.failureMessage;
          if (!options.disableBail) break;
        }
      }
    } finally {
      n.activeMutant = undefined;
      n.mutantCoverage = { static: {}, perTest: {} };
    }
    if (killedBy.length > 0)
      return { status: MutantRunStatus.Killed, killedBy, failureMessage, nrOfTests: ran };
    return { status: MutantRunStatus.Survived, nrOfTests: ran };
  }
}

// A reporter that appends each undetected mutant to reports/mutation/<area>/<part>/survivors.log as
// soon as it is known (the HTML and JSON reports appear only when a run ends).
class SurvivorLogReporter {
  static inject = tokens(commonTokens.options);

  constructor(options) {
    this.file = path.join(path.dirname(options.jsonReporter.fileName), "survivors.log");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, "");
  }

  onMutantTested(m) {
    if (m.status !== "Survived" && m.status !== "NoCoverage") return;
    // Stryker's locations here: lines from 1, columns from 0.
    const at = `${path.relative(process.cwd(), m.fileName)}:${m.location.start.line}:${m.location.start.column + 1}`;
    fs.appendFileSync(
      this.file,
      `${at} ${m.status} ${m.mutatorName} ${JSON.stringify(m.replacement ?? "")}\n`,
    );
  }
}

export const strykerPlugins = [
  declareClassPlugin(PluginKind.TestRunner, "capsync-harness", HarnessTestRunner),
  declareClassPlugin(PluginKind.Reporter, "capsync-survivors", SurvivorLogReporter),
];

export const strykerValidationSchema = {
  $schema: "http://json-schema.org/draft-07/schema",
  type: "object",
  properties: {
    harness: {
      type: "object",
      properties: { testFiles: { type: "array", items: { type: "string" } } },
      additionalProperties: false,
    },
  },
};
