// The demo's pure pieces: terminal rendering from a status snapshot, the
// non-TTY status line, key mapping, and the flash wear estimate.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { NorImage } from "../../modules/storage/nor-image.ts";
import { actionForKey, splitKeys } from "../../tools/demo/controls.ts";
import type { DemoStatus } from "../../tools/demo/status.ts";
import { closingLine, totals, unaccounted } from "../../tools/demo/status.ts";
import { statusLine } from "../../tools/demo/status-line.ts";
import { renderScreen } from "../../tools/demo/terminal-view.ts";
import { WearCounter } from "../../tools/demo/wear.ts";

// Fake time: every age on screen is computed against this instant, never the machine's clock.
const NOW = 1_800_000_000_000;

function sample(): DemoStatus {
  const row = (name: string, method: string, hz: number, captured: number, synced: number, lost = 0) => ({
    key: `rdk:component:sensor/${name}/${method}`,
    componentName: name,
    method,
    hz,
    disabled: false,
    captured,
    inFlash: 7,
    synced,
    dropped: 2,
    lost,
    pending: captured - synced - 2 - lost,
    setAside: 0,
    missed: name === "imu" ? 3 : 0,
  });
  return {
    uptimeMs: 83_000,
    boots: 2,
    network: "down",
    deviceState: "running",
    cloudUrl: "http://127.0.0.1:8080",
    cloudReadings: 12345,
    collectors: [row("imu", "AngularVelocity", 200, 16000, 15000, 100), row("temp", "Readings", 1, 80, 70)],
    sync: {
      state: "backing-off",
      lastError: "UNAVAILABLE: network is down",
      lastErrorMs: NOW - 2000,
      backoffMs: 6400,
      lastSuccessMs: NOW - 5000,
    },
    flash: {
      sizeBytes: 1 << 20,
      sectorSize: 4096,
      usedBytes: 102400,
      pendingBytes: 40960,
      capacityBytes: 409600,
      maxSectorErases: 12,
      totalErases: 300,
      maxSectorErasesPerHour: 30,
      projectedLifetimeDays: 100000 / 30 / 24,
    },
    reconciliation: { carriedIn: 40, inFlashAtCuts: 60 },
    recentLog: ["line one", "line two"],
  };
}

const ESC = String.fromCharCode(27);
const escapeSequence = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, "g");
const strip = (s: string) => s.replace(escapeSequence, "");

test("terminal view shows every column, the state, the controls, and fits the width", () => {
  const lines = renderScreen(sample(), { selected: 1, notice: "network cut" }, 100, 40, NOW);
  const text = lines.map(strip).join("\n");
  assert.match(text, /boot #2/);
  assert.match(text, /network DOWN/);
  assert.match(text, /Hz\s+captured\s+synced\s+lost\s+dropped\s+pending\s+missed\s+in flash/);
  assert.match(text, /imu\/AngularVelocity\s+200\s+16,000\s+15,000\s+100\s+2\s+898\s+3\s+7/);
  assert.match(text, />2 {2}temp\/Readings/, "the selected row is marked");
  assert.match(text, /total\s+16,080\s+15,070\s+100\s+4\s+906\s+3\s+14/);
  assert.doesNotMatch(text, /columns cut/, "100 columns show every column");
  assert.match(text, /missed: 3 sampler deadline\(s\) passed/);
  assert.match(text, /earlier runs: 40 unsynced reading\(s\) found at boot and discarded/);
  assert.match(text, /last upload 5\.0 s ago/);
  assert.match(text, /backing-off/);
  assert.match(text, /backoff 6\.4 s/);
  assert.match(text, /last error \(2\.0 s ago\): UNAVAILABLE: network is down/);
  assert.match(text, /40\.0 KB unsynced of 400\.0 KB ring capacity \(10\.0%\)/);
  assert.match(text, /busiest sector 12 erases \(all sectors 300\).*30\.0\/h.*139 days to 100,000 cycles/);
  assert.match(text, /» network cut/);
  assert.match(text, /\[n\] cut\/restore network/);
  assert.match(text, /\[r\] reboot/);
  assert.match(text, /\[s\] sync now/);
  assert.match(text, /\[\+\] double Hz/);
  assert.match(text, /line two/);
  for (const line of lines) assert.ok(strip(line).length <= 100, `line too wide: ${strip(line)}`);
  assert.ok(
    renderScreen(sample(), { selected: 0, notice: "" }, 60, 40, NOW).every((l) => strip(l).length <= 60),
  );
});

test("at 80×24 the table says which columns it cut, and the screen fits", () => {
  const lines = renderScreen(sample(), { selected: 0, notice: "" }, 80, 24, NOW).slice(0, 24);
  const text = lines.map(strip).join("\n");
  for (const line of lines) assert.ok(strip(line).length <= 80, `line too wide: ${strip(line)}`);
  const cut = /columns cut to fit 80 columns: (.+) \(make the terminal wider\)/.exec(text);
  assert.ok(cut, text);
  const header = lines.map(strip).find((l) => l.includes("collector"))!;
  // Every column is either in the header or named as cut, never silently gone.
  for (const title of ["Hz", "captured", "synced", "lost", "dropped", "pending", "missed", "in flash"]) {
    assert.ok(
      header.includes(title) !== cut[1]!.split(", ").includes(title),
      `${title}: shown xor named as cut`,
    );
  }
  assert.match(header, /captured\s+synced\s+lost/, "the essential columns stay");
});

test("wear before a minute of erases says it is measuring, once", () => {
  const status = sample();
  status.flash.maxSectorErasesPerHour = Number.NaN;
  status.flash.projectedLifetimeDays = Number.NaN;
  const text = renderScreen(status, { selected: 0, notice: "" }, 120, 40, NOW).map(strip).join("\n");
  assert.match(
    text,
    /wear: busiest sector 12 erases \(all sectors 300\) {2}· {2}erase rate and lifetime: measuring/,
  );
  assert.doesNotMatch(text, /measuring….*measuring/);
});

test("flash line: a ring past its capacity (up to a sector, just before it overwrites) reads as full", () => {
  const status = sample();
  status.flash.pendingBytes = status.flash.capacityBytes + 2048;
  const text = renderScreen(status, { selected: 0, notice: "" }, 100, 40, NOW).map(strip).join("\n");
  assert.match(text, /402\.0 KB unsynced of 400\.0 KB ring capacity \(100%, full\)/);
  status.flash.pendingBytes = 0;
  const synced = renderScreen(status, { selected: 0, notice: "" }, 100, 40, NOW).map(strip).join("\n");
  assert.match(synced, /0 B unsynced of 400\.0 KB ring capacity \(0\.0%\)/);
});

test("status line and closing line carry the totals", () => {
  const s = sample();
  const line = statusLine(s);
  assert.match(
    line,
    /^status: t=00:01:23 boot=2 net=down captured=16080 in_flash=14 synced=15070 dropped=4 lost=100/,
  );
  assert.match(
    line,
    /sync=backing-off backoff=6\.4 s last_error="UNAVAILABLE: network is down" cloud_readings=12345$/,
  );
  assert.ok(!line.includes(ESC));
  assert.equal(closingLine(s), "demo: 16080 readings captured, 15070 synced");
  // carriedIn (40) is kept apart: neither in this run's captured nor in its lost.
  assert.equal(unaccounted(s), 0);
  assert.match(line, / missed=3 /);
  assert.equal(totals(s).pending, 898 + 8);
});

test("keys: each control, digits select, several keys in one chunk, unknown keys ignored", () => {
  assert.deepEqual(actionForKey("n"), { kind: "toggle-network" });
  assert.deepEqual(actionForKey("R"), { kind: "reboot" });
  assert.deepEqual(actionForKey("s"), { kind: "sync-now" });
  assert.deepEqual(actionForKey("+"), { kind: "scale-frequency", factor: 2 });
  assert.deepEqual(actionForKey("-"), { kind: "scale-frequency", factor: 0.5 });
  assert.deepEqual(actionForKey("3"), { kind: "select", index: 2 });
  assert.deepEqual(actionForKey("\u0003"), { kind: "quit" });
  assert.deepEqual(actionForKey("\u001b[B"), { kind: "select", index: -2 });
  assert.equal(actionForKey("x"), undefined);
  assert.deepEqual(splitKeys("2+\u001b[Aq"), ["2", "+", "\u001b[A", "q"]);
});

test("wear: erases are counted per sector, persisted, and projected against 100k cycles", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-wear-"));
  try {
    const file = path.join(dir, "wear.json");
    const t0 = 1_000_000;
    const wear = new WearCounter(4, file, t0);
    const flash = wear.wrap(new NorImage({ size: 4 * 4096 }));
    for (let i = 0; i < 10; i++) flash.eraseSector(1);
    for (let i = 0; i < 4; i++) flash.eraseSector(2);
    assert.deepEqual(Array.from(wear.perSector), [0, 10, 4, 0]);
    assert.ok(Number.isNaN(wear.summary(t0 + 30_000).projectedLifetimeDays), "too early to project");
    // One hour: busiest floor (10 − 1)/h = 9/h, average over active sectors (10 + 4)/2 = 7/h → 9/h.
    const s = wear.summary(t0 + 3_600_000);
    assert.equal(s.maxSectorErases, 10);
    assert.equal(s.totalErases, 14);
    assert.equal(s.maxSectorErasesPerHour, 9);
    assert.equal(s.projectedLifetimeDays, (100_000 - 10) / 9 / 24);
    wear.save();
    // A later run starts from the saved counts; the rate covers only its own erases.
    const again = new WearCounter(4, file, t0);
    assert.deepEqual(Array.from(again.perSector), [0, 10, 4, 0]);
    assert.equal(again.summary(t0 + 3_600_000).projectedLifetimeDays, Number.POSITIVE_INFINITY);
    // A file for another partition size is ignored rather than misapplied.
    assert.deepEqual(Array.from(new WearCounter(8, file, t0).perSector), [0, 0, 0, 0, 0, 0, 0, 0]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
