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
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export const root = path.resolve(import.meta.dirname, "../..");

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
  // mcconfig names the app (and its build folder) after the folder that holds manifest.json.
  const appName = path.basename(options.manifest ? path.dirname(options.manifest) : root);
  const so = path.join(options.outDir, "bin/lin/mc/debug", appName, "mc.so");
  if (!fs.existsSync(so)) throw new Error(`mcconfig succeeded but ${so} is missing`);
  return so;
}

function sdkEnv(sdk: SdkPaths): NodeJS.ProcessEnv {
  // mcconfig compiles TypeScript with the `tsc` on PATH: the repository's own.
  return {
    ...process.env,
    MODDABLE: sdk.moddable,
    PATH: `${sdk.bin}:${path.join(root, "node_modules/.bin")}:${process.env.PATH}`,
  };
}

export interface RunningSimulator {
  /** Every trace line so far (without xsbug-log's prompt decoration). */
  readonly lines: string[];
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export interface RunOptions {
  sdk: SdkPaths;
  so: string;
  onLine?: (line: string) => void;
}

/** Start Xvfb on a free display and mcsim (via xsbug-log) on a free debugger port. */
export async function runApp(options: RunOptions): Promise<RunningSimulator> {
  const display = await freeDisplay();
  const xvfb = spawn("Xvfb", [`:${display}`, "-screen", "0", "800x600x24", "-nolisten", "tcp"], {
    stdio: "ignore",
    detached: true,
  });
  await sleep(500);
  const port = await freePort();
  const log = spawn(process.execPath, [options.sdk.xsbugLog, options.sdk.mcsim, options.so], {
    cwd: path.dirname(options.sdk.xsbugLog),
    env: {
      ...process.env,
      DISPLAY: `:${display}`,
      XSBUG_LOG_PORT: String(port),
      XSBUG_PORT: String(port),
      XSBUG_HOST: "localhost",
      // xsbug-log keeps its preferences file here; the run's own directory keeps /tmp clean.
      XSBUG_PROJECT: path.dirname(options.so),
    },
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
  let stopped = false;
  return {
    lines,
    waitFor(pattern, timeoutMs) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no trace line matching ${pattern} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Our own process groups only: xsbug-log (with the mcsim it spawned) and Xvfb.
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
