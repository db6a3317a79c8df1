/*
 * The live terminal view: redraws the whole status in place a few times a
 * second (alternate screen, cursor home, clear to end of line). Plain ANSI
 * escapes: no TUI library needed for a table.
 */
import { helpLines } from "./controls.ts";
import * as format from "./format.ts";
import { type DemoStatus, totals } from "./status.ts";
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
export function renderScreen(status: DemoStatus, view: ViewState, width: number, height = 40): string[] {
  const lines: string[] = [];
  const net = status.network === "up" ? green("UP") : red("DOWN (cut)");
  const device =
    status.deviceState === "running" ? green(status.deviceState) : yellow(status.deviceState.toUpperCase());
  lines.push(
    `${bold("capsync demo")}  device boot #${status.boots} ${device}  ·  network ${net}  ·  up ${format.clock(status.uptimeMs)}`,
  );
  lines.push(dim(`web page: ${status.cloudUrl}/   (what arrived in the local cloud, live)`));
  lines.push("");

  const longest = status.collectors.reduce(
    (m, c) => Math.max(m, c.componentName.length + c.method.length + 1),
    0,
  );
  // The numeric columns take 71 columns; the collector name gets what is left (within reason).
  const nameWidth = Math.max(12, Math.min(40, Math.max(24, longest), width - 71));
  const header =
    ` #  ${pad("collector", nameWidth)} ${pad("Hz", 7, true)} ${pad("captured", 10, true)} ${pad("in flash", 9, true)}` +
    ` ${pad("synced", 10, true)} ${pad("dropped", 8, true)} ${pad("lost", 7, true)} ${pad("pending", 8, true)}`;
  lines.push(bold(header));
  status.collectors.forEach((c, i) => {
    const row =
      `${i === view.selected ? ">" : " "}${i + 1}  ${pad(`${c.componentName}/${c.method}`, nameWidth)} ${pad(c.disabled ? "off" : format.hz(c.hz), 7, true)}` +
      ` ${pad(format.count(c.captured), 10, true)} ${pad(format.count(c.inFlash), 9, true)}` +
      ` ${pad(format.count(c.synced), 10, true)} ${pad(format.count(c.dropped), 8, true)}` +
      ` ${pad(format.count(c.lost), 7, true)} ${pad(format.count(c.pending), 8, true)}`;
    lines.push(i === view.selected ? inverse(row) : row);
  });
  const t = totals(status);
  lines.push(
    dim(
      `    ${pad("total", nameWidth)} ${pad("", 7)} ${pad(format.count(t.captured), 10, true)} ${pad(format.count(t.inFlash), 9, true)}` +
        ` ${pad(format.count(t.synced), 10, true)} ${pad(format.count(t.dropped), 8, true)}` +
        ` ${pad(format.count(t.lost), 7, true)} ${pad(format.count(t.pending), 8, true)}`,
    ),
  );
  lines.push("");

  const s = status.sync;
  const stateText =
    s.state === "backoff" || s.state === "failing"
      ? yellow(s.state)
      : s.state === "uploading"
        ? green(s.state)
        : s.state;
  const lastUpload = Number.isFinite(s.lastSuccessMs)
    ? `${format.duration(Date.now() - s.lastSuccessMs)} ago`
    : "none yet";
  lines.push(
    `${bold("sync")}   ${stateText}  ·  last upload ${lastUpload}  ·  backoff ${s.backoffMs > 0 ? yellow(format.duration(s.backoffMs)) : "–"}`,
  );
  const errorAge = Number.isFinite(s.lastErrorMs)
    ? ` (${format.duration(Date.now() - s.lastErrorMs)} ago)`
    : "";
  lines.push(`       last error${errorAge}: ${s.lastError ? red(s.lastError) : "–"}`);
  const f = status.flash;
  // A full ring may hold up to one sector past its capacity just before it overwrites: that is "full".
  const share = f.capacityBytes > 0 ? (100 * f.pendingBytes) / f.capacityBytes : 0;
  const pendingPct = share >= 100 ? yellow("100%, full") : `${share.toFixed(1)}%`;
  lines.push(
    `${bold("flash")}  ${format.bytes(f.pendingBytes)} unsynced of ${format.bytes(f.capacityBytes)} ring capacity (${pendingPct})  ·  image ${format.bytes(f.sizeBytes)}, ${f.sectorSize} B sectors`,
  );
  const rate = Number.isFinite(f.maxSectorErasesPerHour)
    ? `${f.maxSectorErasesPerHour.toFixed(1)}/h`
    : "measuring…";
  lines.push(
    `       wear: busiest sector ${format.count(f.maxSectorErases)} erases (all sectors ${format.count(f.totalErases)})  ·  ${rate}  →  ${format.lifetime(f.projectedLifetimeDays)} to ${format.count(ratedEraseCycles)} cycles`,
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
