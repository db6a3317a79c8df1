/*
 * Build capsync for the Moddable Linux simulator and run it headless: mcsim
 * under Xvfb, its trace output through the SDK's xsbug-log. Shared by the
 * simulator lane (host-tests/sim/lane.ts) and `npm run sim`.
 *
 * Credentials and the cloud address go in as mcconfig config values
 * (`partId=… secret=… appAddress=…`), exactly the build-time provisioning a
 * board uses; the app copies them into its Preference store at boot.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const root = path.resolve(import.meta.dirname, "../..");

/**
 * The build folder for this checkout: one per checkout path, so two clones
 * (or worktrees) building at once never share mcconfig's intermediate files.
 */
export function defaultBuildDir(): string {
  const tag = createHash("sha256").update(root).digest("hex").slice(0, 8);
  return path.join(os.tmpdir(), `capsync-sim-build-${path.basename(root)}-${tag}`);
}

export interface SdkPaths {
  moddable: string;
  bin: string;
  mcconfig: string;
  mcsim: string;
  xsbugLog: string;
}

/** Where the SDK's tools are, or a sentence saying what is missing. */
export function findSdk(env = process.env): SdkPaths | string {
  const moddable = env.MODDABLE;
  if (!moddable) return "$MODDABLE is not set";
  const bin = path.join(moddable, "build/bin/lin/release");
  const paths = {
    moddable,
    bin,
    mcconfig: path.join(bin, "mcconfig"),
    mcsim: path.join(bin, "mcsim"),
    xsbugLog: path.join(moddable, "tools/xsbug-log/xsbug-log.js"),
  };
  if (!fs.existsSync(paths.mcconfig))
    return `${paths.mcconfig} is missing (build the SDK tools: cd $MODDABLE/build/makefiles/lin && make)`;
  if (!fs.existsSync(paths.mcsim)) return `${paths.mcsim} is missing (build the SDK tools)`;
  if (!fs.existsSync(path.join(moddable, "tools/xsbug-log/node_modules"))) {
    return "xsbug-log's dependencies are missing (cd $MODDABLE/tools/xsbug-log && npm install)";
  }
  if (spawnSync("which", ["Xvfb"]).status !== 0) return "Xvfb is not installed (apt-get install xvfb)";
  return paths;
}

export interface BuildOptions {
  sdk: SdkPaths;
  outDir: string;
  config: Record<string, string>;
  onLine?: (line: string) => void;
  /** Another app's manifest (default: the repository's own). */
  manifest?: string;
}

/** `mcconfig -d -m -p lin -t build` with config values; returns the mc.so path. */
export async function buildApp(options: BuildOptions): Promise<string> {
  fs.mkdirSync(options.outDir, { recursive: true });
  const args = ["-d", "-m", "-p", "lin", "-t", "build", "-o", options.outDir];
  if (options.manifest) args.push(options.manifest);
  for (const [key, value] of Object.entries(options.config)) args.push(`${key}=${value}`);
  const code = await run(options.sdk.mcconfig, args, {
    cwd: root,
    env: sdkEnv(options.sdk),
    onLine: options.onLine,
  });
  if (code !== 0) throw new Error(`mcconfig failed with exit code ${code}`);
  const so = appSoPath(options.outDir, options.manifest ? path.dirname(options.manifest) : root);
  if (!fs.existsSync(so)) throw new Error(`mcconfig succeeded but ${so} is missing`);
  return so;
}

/** Where mcconfig puts the app: it names the app (and its build folder) after the folder that holds manifest.json. */
export function appSoPath(outDir: string, appRoot: string = root): string {
  return path.join(outDir, "bin/lin/mc/debug", path.basename(appRoot), "mc.so");
}

function sdkEnv(sdk: SdkPaths): NodeJS.ProcessEnv {
  // mcconfig compiles TypeScript with the `tsc` on PATH: the repository's own.
  return {
    ...process.env,
    MODDABLE: sdk.moddable,
    PATH: `${sdk.bin}:${path.join(root, "node_modules/.bin")}:${process.env.PATH}`,
  };
}

export interface SimulatorExit {
  code: number | null;
  /** "SIGPIPE" when a write to a vanished peer killed it, "SIGTERM" after `stop()`, … */
  signal: NodeJS.Signals | null;
}

export interface RunningSimulator {
  /** Every trace line so far (without xsbug-log's prompt decoration). */
  readonly lines: string[];
  /** How mcsim ended, or undefined while it runs. */
  readonly exit: SimulatorExit | undefined;
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export interface RunOptions {
  sdk: SdkPaths;
  so: string;
  onLine?: (line: string) => void;
}

/**
 * Start Xvfb on a free display, xsbug-log listening on a free debugger port,
 * and mcsim, which connects to it. mcsim is our own child (not xsbug-log's),
 * so how it ended — an exit code or a signal such as SIGPIPE — is known.
 */
export async function runApp(options: RunOptions): Promise<RunningSimulator> {
  const display = await freeDisplay();
  const xvfb = spawn("Xvfb", [`:${display}`, "-screen", "0", "800x600x24", "-nolisten", "tcp"], {
    stdio: "ignore",
    detached: true,
  });
  await sleep(500);
  const port = await freePort();
  const env = {
    ...process.env,
    DISPLAY: `:${display}`,
    XSBUG_LOG_PORT: String(port),
    XSBUG_PORT: String(port),
    XSBUG_HOST: "localhost",
    // xsbug-log keeps its preferences file here; the run's own directory keeps /tmp clean.
    XSBUG_PROJECT: path.dirname(options.so),
  };
  const log = spawn(process.execPath, [options.sdk.xsbugLog], {
    cwd: path.dirname(options.sdk.xsbugLog),
    env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = "";
  const onText = (chunk: Buffer): void => {
    buffered += chunk.toString("utf8");
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = clean(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      if (line === "") continue;
      lines.push(line);
      options.onLine?.(line);
      for (const w of waiters.splice(0)) {
        if (w.pattern.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  };
  log.stdout.on("data", onText);
  log.stderr.on("data", onText);
  await waitForLine(lines, /listening on port/, 10_000);
  const mcsim = spawn(options.sdk.mcsim, [options.so], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  mcsim.stderr.on("data", onText);
  let exit: SimulatorExit | undefined;
  // An app that ends (an abort, a crash, a signal) fails every wait at once, saying how it ended.
  const exited: ((exit: SimulatorExit) => void)[] = [];
  mcsim.on("exit", (code, signal) => {
    exit = { code, signal };
    for (const f of exited.splice(0)) f(exit);
  });
  let stopped = false;
  return {
    lines,
    get exit() {
      return exit;
    },
    waitFor(pattern, timeoutMs) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onExit = (e: SimulatorExit): void => {
          clearTimeout(timer);
          if (!stopped)
            reject(
              new Error(
                `mcsim ended (exit code ${e.code}, signal ${e.signal}) before a trace line matching ${pattern}`,
              ),
            );
        };
        const timer = setTimeout(() => {
          const i = exited.indexOf(onExit);
          if (i >= 0) exited.splice(i, 1);
          reject(new Error(`no trace line matching ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (exit) {
          onExit(exit);
          return;
        }
        exited.push(onExit);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            const i = exited.indexOf(onExit);
            if (i >= 0) exited.splice(i, 1);
            resolve(line);
          },
        });
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Our own process groups only: mcsim, xsbug-log and Xvfb.
      killGroup(mcsim);
      await waitExit(mcsim, 3_000);
      killGroup(log);
      await sleep(300);
      killGroup(xvfb);
    },
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

// Built from a string so the pattern holds no literal control character.
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** Strip xsbug-log's prompt and terminal escapes: "(xsdb) \x1b[2K\x1b[0G[Thread 1] text" → "text". */
function clean(line: string): string {
  return line
    .replace(ANSI_ESCAPE, "")
    .replace(/^(\(xsdb\)\s*)+/, "")
    .replace(/^\[Thread \d+\]\s*/, "")
    .trimEnd();
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) options.onLine?.(line);
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** xsbug-log announces "xsdb listening on port N" once mcsim can connect to it. */
async function waitForLine(lines: string[], pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`xsbug-log did not start within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
    server.on("error", reject);
  });
}

async function freeDisplay(): Promise<number> {
  for (let n = 90 + Math.floor(Math.random() * 400); ; n++) {
    if (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && !fs.existsSync(`/tmp/.X${n}-lock`)) return n;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
