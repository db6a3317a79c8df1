/*
 * `npm start`: the local cloud and a simulated capsync device, with a live
 * terminal view and single-key controls (or, without a terminal, a status line
 * every few seconds).
 *
 *   npm start                      run until Ctrl-C (or q)
 *   npm start -- --for 30          stop by itself after 30 s; the last line is
 *                                  "demo: N readings captured, M synced"
 *   npm start -- --data-dir DIR    keep the cloud database and flash image in DIR (default .data/demo)
 *   npm start -- --port 8080       the local cloud's port: fails clearly if taken (without --port:
 *                                  8080, or a free one if 8080 is taken)
 */
import * as path from "node:path";
import { actionForKey, type ControlAction, splitKeys } from "./controls.ts";
import { Demo, StartupError } from "./demo.ts";
import * as format from "./format.ts";
import { RecentLog } from "./node-ports.ts";
import { closingLine, type DemoStatus, unaccounted } from "./status.ts";
import { statusLine } from "./status-line.ts";
import { TerminalView, type ViewState } from "./terminal-view.ts";

interface Args {
  forSeconds: number | undefined;
  dataDir: string;
  port: number;
  portExplicit: boolean;
  statusEverySecs: number;
}

const usage = `usage: npm start -- [--for SECONDS] [--data-dir DIR] [--port PORT] [--status-every SECONDS]`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    forSeconds: undefined,
    dataDir: path.resolve(import.meta.dirname, "../../.data/demo"),
    port: 8080,
    portExplicit: false,
    statusEverySecs: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    const positive = (name: string, v: string) => {
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n))
        throw new Error(`${name} must be a positive number, got "${v}"\n${usage}`);
      return n;
    };
    if (flag === "--for") args.forSeconds = positive("--for", value());
    else if (flag === "--data-dir") args.dataDir = path.resolve(value());
    else if (flag === "--port") {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0-65535\n${usage}`);
      args.port = n;
      args.portExplicit = true;
    } else if (flag === "--status-every") args.statusEverySecs = positive("--status-every", value());
    else if (flag === "--help" || flag === "-h") {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${flag}\n${usage}`);
  }
  return args;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const interactive = process.stdout.isTTY === true && process.stdin.isTTY === true;
  const log = new RecentLog(200);
  // Without a terminal, log lines go to stderr so stdout stays the status lines and the closing line.
  if (!interactive) log.sink = (line) => process.stderr.write(`${line}\n`);

  // A closed stdout (`npm start | head`) ends the demo cleanly: nothing more is written to it.
  let stdoutOpen = true;
  const out = (text: string): void => {
    if (stdoutOpen) process.stdout.write(text);
  };
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stdoutOpen = false;
    if (!stopping) void stop("stdout closed");
  });

  const demo = await Demo.start({
    dataDir: args.dataDir,
    port: args.port,
    portExplicit: args.portExplicit,
    log,
  });
  const view: ViewState = { selected: 0, notice: "" };
  const terminal = interactive ? new TerminalView(process.stdout) : undefined;
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    if (stopping) {
      // Asked again while stopping (an impatient second Ctrl-C): leave now, without the clean stop.
      terminal?.close();
      process.stderr.write("demo: stopped without finishing the clean stop (asked twice)\n");
      process.exit(130);
    }
    stopping = (async () => {
      clearInterval(refresh);
      if (deadline) clearTimeout(deadline);
      view.notice = `stopping (${reason}): last upload, flushing flash, closing the database…`;
      if (terminal) terminal.draw(demo.status(), view);
      const final = await demo.stop();
      if (terminal) {
        terminal.close();
        process.stdin.setRawMode(false);
        process.stdin.pause();
      }
      printSummary(final, args.dataDir, out);
      // Last line on stdout, always: scripts and CI read it.
      out(`${closingLine(final)}\n`);
    })();
    return stopping;
  };

  const act = (action: ControlAction): void => {
    const status = demo.status();
    const selected = status.collectors[view.selected];
    switch (action.kind) {
      case "toggle-network":
        demo.toggleNetwork();
        view.notice = demo.networkUp
          ? "network restored: the device reconnects and sync catches up"
          : "network cut: uploads fail, sync backs off, capture keeps filling flash";
        break;
      case "reboot":
        view.notice =
          "power cut armed: the flash loses power during one of its next operations, then the device boots";
        demo.reboot().then(
          () => {
            view.notice =
              "rebooted: the store reopened from the flash image (unsynced readings are counted as lost)";
          },
          (error: Error) => {
            view.notice = `reboot failed: ${error.message}`;
          },
        );
        break;
      case "sync-now":
        view.notice = "sync now: uploading…";
        demo.syncNow().then(
          (ok) => {
            const pending = demo.status().collectors.reduce((n, c) => n + c.pending, 0);
            view.notice = !ok
              ? "sync now: the round failed (see last error)"
              : pending === 0
                ? "sync now: done; nothing is pending"
                : `sync now: done; ${format.count(pending)} reading(s) captured since are pending for the next round`;
          },
          (error: Error) => {
            view.notice = `sync now failed: ${error.message}`;
          },
        );
        break;
      case "select":
        if (action.index === -1) view.selected = Math.max(0, view.selected - 1);
        else if (action.index === -2)
          view.selected = Math.min(status.collectors.length - 1, view.selected + 1);
        else if (action.index < status.collectors.length) view.selected = action.index;
        break;
      case "scale-frequency": {
        if (!selected) break;
        const current = demo.configuredFrequency(selected.key);
        if (!(current > 0)) {
          view.notice = `${selected.componentName}/${selected.method} has no frequency in the config`;
          break;
        }
        const next = Math.max(0.01, Math.min(2000, current * action.factor));
        try {
          const revision = demo.setFrequency(selected.key, Number(next.toPrecision(4)));
          view.notice = `${selected.componentName}/${selected.method}: ${format.hz(current)} → ${format.hz(next)} Hz in the cloud config (revision ${revision}); applied at the next poll, no reboot`;
        } catch (error) {
          view.notice = (error as Error).message;
        }
        break;
      }
      case "quit":
        void stop("quit");
        break;
    }
    terminal?.draw(demo.status(), view);
  };

  const refresh = setInterval(
    () => {
      const status = demo.status();
      if (terminal) terminal.draw(status, view);
      else out(`${statusLine(status)}\n`);
    },
    terminal ? 250 : args.statusEverySecs * 1000,
  );
  const deadline =
    args.forSeconds !== undefined
      ? setTimeout(() => void stop(`--for ${args.forSeconds}`), args.forSeconds * 1000)
      : undefined;

  process.on("SIGINT", () => void stop("Ctrl-C"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void stop("terminal closed"));

  if (terminal) {
    terminal.open();
    process.stdin.setRawMode(true);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      for (const key of splitKeys(chunk)) {
        const action = actionForKey(key);
        if (!action) continue;
        try {
          act(action);
        } catch (error) {
          // A control that fails says so on screen; it never takes the demo down.
          view.notice = `${action.kind} failed: ${(error as Error).message}`;
        }
      }
    });
    terminal.draw(demo.status(), view);
  } else {
    out(
      `demo: local cloud and web page at ${demo.url}/ ; data in ${args.dataDir}` +
        (args.forSeconds !== undefined ? ` ; stopping after ${args.forSeconds} s` : " ; Ctrl-C stops") +
        "\n",
    );
  }
}

function printSummary(status: DemoStatus, dataDir: string, out: (text: string) => void): void {
  const c = status.collectors;
  const lines = [
    `demo: stopped cleanly after ${format.clock(status.uptimeMs)}; ${status.boots} boot(s); data kept in ${dataDir} (npm start continues from it)`,
    ...c.map(
      (r) =>
        `demo:   ${r.componentName}/${r.method}: captured ${r.captured}, synced ${r.synced}, dropped ${r.dropped}, lost ${r.lost}, pending ${r.pending}`,
    ),
    `demo: cloud database holds ${status.cloudReadings} readings in total`,
  ];
  if (status.reconciliation.carriedIn > 0) {
    lines.push(
      `demo: earlier runs: ${status.reconciliation.carriedIn} unsynced reading(s) found at this run's first boot and discarded (not in the counts above)`,
    );
  }
  const pending = c.reduce((n, r) => n + r.pending, 0);
  if (pending > 0) {
    lines.push(
      `demo: ${pending} unsynced reading(s) were flushed to flash; the next boot discards them (the default reboot rule; retain_unsynced_on_reboot keeps them)`,
    );
  }
  const gap = unaccounted(status);
  if (gap !== 0)
    lines.push(`demo: ${gap} reading(s) of this run are not accounted for (a commit torn by a power cut)`);
  out(`${lines.join("\n")}\n`);
}

main().catch((error: Error) => {
  // Leave the alternate screen (if the live view was up) so the error is readable.
  if (process.stdout.isTTY) process.stdout.write("\u001b[?25h\u001b[?1049l");
  const known = error instanceof StartupError;
  const text = process.env.CAPSYNC_DEBUG || !known ? (error.stack ?? error.message) : error.message;
  process.stderr.write(`demo: cannot start: ${text}\n`);
  // Exit now: nothing started may keep the process waiting (a timer, a server).
  process.exit(1);
});
