/*
 * The live terminal view: redraws the whole status in place a few times a
 * second (alternate screen, cursor home, clear to end of line). Plain ANSI
 * escapes: no TUI library needed for a table.
 */
import { helpLines } from "./controls.ts";
import * as format from "./format.ts";
import { type CollectorStatus, type DemoStatus, totals } from "./status.ts";
import { ratedEraseCycles } from "./wear.ts";

const esc = "\u001b[";
const bold = (s: string) => `${esc}1m${s}${esc}22m`;
const dim = (s: string) => `${esc}2m${s}${esc}22m`;
const color = (code: number, s: string) => `${esc}${code}m${s}${esc}39m`;
const green = (s: string) => color(32, s);
const red = (s: string) => color(31, s);
const yellow = (s: string) => color(33, s);
const inverse = (s: string) => `${esc}7m${s}${esc}27m`;

export interface ViewState {
  /** Index of the collector the frequency keys act on. */
  selected: number;
  /** A short note about the last control used ("network cut", "frequency → 100 Hz"…). */
  notice: string;
}

function pad(s: string, width: number, right = false): string {
  if (s.length >= width) return s.slice(0, width);
  return right ? s.padStart(width) : s.padEnd(width);
}

/** The screen as lines (with ANSI styling), for a terminal `width` columns wide. */
export function renderScreen(
  status: DemoStatus,
  view: ViewState,
  width: number,
  height = 40,
  now: number = Date.now(),
): string[] {
  const lines: string[] = [];
  const net = status.network === "up" ? green("UP") : red("DOWN (cut)");
  const device =
    status.deviceState === "running" ? green(status.deviceState) : yellow(status.deviceState.toUpperCase());
  lines.push(
    `${bold("capsync demo")}  boot #${status.boots} of this run ${device}  ·  network ${net}  ·  up ${format.clock(status.uptimeMs)}`,
  );
  lines.push(dim(`web page: ${status.cloudUrl}/   (what arrived in the local cloud, live)`));
  lines.push("");

  // Columns in the order they are given up when the terminal is narrow (last first).
  const t = totals(status);
  const missedTotal = status.collectors.reduce((n, c) => n + c.missed, 0);
  const columns: { title: string; width: number; cell: (c: CollectorStatus | undefined) => string }[] = [
    { title: "Hz", width: 7, cell: (c) => (c ? (c.disabled ? "off" : format.hz(c.hz)) : "") },
    { title: "captured", width: 10, cell: (c) => format.count(c ? c.captured : t.captured) },
    { title: "synced", width: 10, cell: (c) => format.count(c ? c.synced : t.synced) },
    { title: "lost", width: 7, cell: (c) => format.count(c ? c.lost : t.lost) },
    { title: "dropped", width: 8, cell: (c) => format.count(c ? c.dropped : t.dropped) },
    { title: "pending", width: 8, cell: (c) => format.count(c ? c.pending : t.pending) },
    { title: "missed", width: 7, cell: (c) => format.count(c ? c.missed : missedTotal) },
    { title: "in flash", width: 9, cell: (c) => format.count(c ? c.inFlash : t.inFlash) },
  ];
  const longest = status.collectors.reduce(
    (m, c) => Math.max(m, c.componentName.length + c.method.length + 1),
    0,
  );
  const numericWidth = (cols: typeof columns) => cols.reduce((n, c) => n + c.width + 1, 0);
  const minName = 14;
  let shown = columns;
  while (shown.length > 2 && 4 + minName + numericWidth(shown) > width) shown = shown.slice(0, -1);
  const cut = columns.slice(shown.length).map((c) => c.title);
  const nameWidth = Math.max(minName, Math.min(40, Math.max(24, longest), width - 4 - numericWidth(shown)));
  const cells = (c: CollectorStatus | undefined) =>
    shown.map((col) => pad(col.cell(c), col.width, true)).join(" ");
  lines.push(
    bold(
      ` #  ${pad("collector", nameWidth)} ${shown.map((col) => pad(col.title, col.width, true)).join(" ")}`,
    ),
  );
  status.collectors.forEach((c, i) => {
    const row = `${i === view.selected ? ">" : " "}${i + 1}  ${pad(`${c.componentName}/${c.method}`, nameWidth)} ${cells(c)}`;
    lines.push(i === view.selected ? inverse(row) : row);
  });
  lines.push(dim(`    ${pad("total", nameWidth)} ${cells(undefined)}`));
  if (cut.length > 0) {
    lines.push(yellow(`columns cut to fit ${width} columns: ${cut.join(", ")} (make the terminal wider)`));
  }
  if (status.reconciliation.carriedIn > 0) {
    lines.push(
      dim(
        `earlier runs: ${format.count(status.reconciliation.carriedIn)} unsynced reading(s) found at boot and discarded (not in this run's counts)`,
      ),
    );
  }
  if (missedTotal > 0) {
    lines.push(
      yellow(
        `missed: ${format.count(missedTotal)} sampler deadline(s) passed while the CPU was busy (counted, not captured late)`,
      ),
    );
  }
  lines.push("");

  const s = status.sync;
  const stateText =
    s.state === "backoff" || s.state === "failing"
      ? yellow(s.state)
      : s.state === "uploading"
        ? green(s.state)
        : s.state;
  const lastUpload = Number.isFinite(s.lastSuccessMs)
    ? `${format.duration(now - s.lastSuccessMs)} ago`
    : "none yet";
  lines.push(
    `${bold("sync")}   ${stateText}  ·  last upload ${lastUpload}  ·  backoff ${s.backoffMs > 0 ? yellow(format.duration(s.backoffMs)) : "–"}`,
  );
  const errorAge = Number.isFinite(s.lastErrorMs) ? ` (${format.duration(now - s.lastErrorMs)} ago)` : "";
  lines.push(`       last error${errorAge}: ${s.lastError ? red(s.lastError) : "–"}`);
  const f = status.flash;
  // A full ring may hold up to one sector past its capacity just before it overwrites: that is "full".
  const share = f.capacityBytes > 0 ? (100 * f.pendingBytes) / f.capacityBytes : 0;
  const pendingPct = share >= 100 ? yellow("100%, full") : `${share.toFixed(1)}%`;
  lines.push(
    `${bold("flash")}  ${format.bytes(f.pendingBytes)} unsynced of ${format.bytes(f.capacityBytes)} ring capacity (${pendingPct})  ·  image ${format.bytes(f.sizeBytes)}, ${f.sectorSize} B sectors`,
  );
  const projection = Number.isFinite(f.maxSectorErasesPerHour)
    ? `${f.maxSectorErasesPerHour.toFixed(1)}/h  →  ${format.lifetime(f.projectedLifetimeDays)} to ${format.count(ratedEraseCycles)} cycles`
    : "erase rate and lifetime: measuring (after the first minute)";
  lines.push(
    `       wear: busiest sector ${format.count(f.maxSectorErases)} erases (all sectors ${format.count(f.totalErases)})  ·  ${projection}`,
  );
  lines.push(`${bold("cloud")}  ${format.count(status.cloudReadings)} readings stored`);
  lines.push("");
  lines.push(view.notice ? yellow(`» ${view.notice}`) : "");
  for (const help of helpLines()) lines.push(bold(help));
  lines.push("");
  lines.push(dim("log:"));
  // The log gets whatever rows are left (at least a few).
  const room = Math.max(4, height - lines.length);
  for (const line of status.recentLog.slice(-room)) lines.push(dim(`  ${line}`));
  return lines.map((line) => clip(line, width));
}

/** Cuts a styled line to `width` visible columns (escape sequences take none). */
function clip(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\u001b") {
      const end = line.indexOf("m", i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) continue;
    out += line[i];
    visible++;
  }
  return out + `${esc}0m`;
}

export class TerminalView {
  private readonly out: NodeJS.WriteStream;
  private active = false;

  constructor(out: NodeJS.WriteStream) {
    this.out = out;
  }

  open(): void {
    // Alternate screen and hidden cursor: the user's scrollback is untouched when the demo exits.
    this.out.write(`${esc}?1049h${esc}?25l`);
    this.active = true;
  }

  draw(status: DemoStatus, view: ViewState): void {
    if (!this.active) return;
    const width = this.out.columns || 120;
    const rows = this.out.rows || 40;
    const lines = renderScreen(status, view, width, rows).slice(0, rows);
    this.out.write(`${esc}H${lines.map((l) => `${l}${esc}K`).join("\n")}${esc}J`);
  }

  close(): void {
    if (!this.active) return;
    this.active = false;
    this.out.write(`${esc}?25h${esc}?1049l`);
  }
}
