// `npm run bench -- power`: battery mode's energy model (modules/power/energy-model.ts) fed with
// what the firmware does per wake, measured deterministically inside the XS engine: computrons per
// capture wake and per sync wake, flash program and erase operations, upload requests and bytes, from
// simulated days of battery-mode wakes on fake ports. Scenario A: a 4-field Readings sensor once a
// minute, hourly sync. Scenario B: once every 10 s, sync every 15 min. Each against viam-micro-server's
// mode (radio up on every wake) with the same numbers. Last line: BENCH {"key":"power",...}.
import {
  dailyEnergy,
  ENERGY_INPUTS,
  type EnergyBreakdown,
  type WakeProfile,
} from "../modules/power/energy-model";
import { runWakes, type WakeSample } from "./xs/power-worker";

interface Scenario {
  name: string;
  hz: number;
  syncMins: number;
  /** Simulated wakes (after the first start, a reboot, which is left out). */
  wakes: number;
}

function profiles(
  samples: WakeSample[],
  hz: number,
): { capsync: WakeProfile[]; microServer: WakeProfile[]; perWake: Record<string, number> } {
  const steady = samples.slice(1);
  const spanMs = steady[steady.length - 1]!.rtcMs - samples[0]!.rtcMs;
  const scale = 86_400_000 / spanMs;
  const mean = (list: WakeSample[], f: (w: WakeSample) => number) =>
    list.length === 0 ? 0 : list.reduce((n, w) => n + f(w), 0) / list.length;
  const pages = (w: WakeSample) => Math.max(w.programs, Math.ceil(w.programBytes / 256));
  const capture = steady.filter((w) => w.kind === "capture");
  const sync = steady.filter((w) => w.kind === "sync");
  const uploaded = sync.reduce((n, w) => n + w.uploadBytes, 0);
  const readingsPerDay = hz * 86_400;
  const bytesPerReading = uploaded / (steady.length * 1) || 0;
  const captureProfile: WakeProfile = {
    perDay: capture.length * scale,
    computrons: mean(capture, (w) => w.computrons),
    pages: mean(capture, pages),
    erases: mean(capture, (w) => w.erases),
    requests: 0,
    uploadBytes: 0,
    radio: false,
  };
  const syncProfile: WakeProfile = {
    perDay: sync.length * scale,
    computrons: mean(sync, (w) => w.computrons),
    pages: mean(sync, pages),
    erases: mean(sync, (w) => w.erases),
    requests: mean(sync, (w) => w.requests),
    uploadBytes: mean(sync, (w) => w.uploadBytes),
    radio: true,
  };
  // viam-micro-server's mode: every reading is a wake with the radio up, uploading that one reading.
  const microServer: WakeProfile = {
    perDay: readingsPerDay,
    computrons: captureProfile.computrons,
    pages: 0,
    erases: 0,
    requests: 1,
    uploadBytes: bytesPerReading,
    radio: true,
  };
  return {
    capsync: [captureProfile, syncProfile],
    microServer: [microServer],
    perWake: {
      captureWakesPerDay: Math.round(captureProfile.perDay),
      syncWakesPerDay: +syncProfile.perDay.toFixed(1),
      captureWakeComputrons: Math.round(captureProfile.computrons),
      captureWakeEsp32Ms: +((captureProfile.computrons * ENERGY_INPUTS.nsPerComputron) / 1e6).toFixed(1),
      syncWakeComputrons: Math.round(syncProfile.computrons),
      flashPagesPerCaptureWake: +captureProfile.pages.toFixed(3),
      flashErasesPerCaptureWake: +captureProfile.erases.toFixed(4),
      uploadRequestsPerSyncWake: +syncProfile.requests.toFixed(2),
      uploadBytesPerReading: +bytesPerReading.toFixed(1),
      rtcFlushesPerDay: Math.round(capture.filter((w) => w.programs > 0).length * scale),
    },
  };
}

const round = (b: EnergyBreakdown) => ({
  mAhPerDay: +b.total.toFixed(3),
  boot: +b.boot.toFixed(3),
  cpu: +b.cpu.toFixed(3),
  flash: +b.flash.toFixed(4),
  radio: +b.radio.toFixed(3),
  sleep: +b.sleep.toFixed(3),
  awakeSPerDay: +b.awakeS.toFixed(1),
});

const scenarios: Scenario[] = [
  { name: "scenarioA", hz: 1 / 60, syncMins: 60, wakes: 301 },
  { name: "scenarioB", hz: 0.1, syncMins: 15, wakes: 1081 },
];
const figures: Record<string, unknown> = {};
/** Scenario A's days under other values of the least certain inputs (capsync / viam-micro-server mode). */
const VARIANTS: [string, Partial<typeof ENERGY_INPUTS>][] = [
  ["250 ns per computron", { nsPerComputron: 250 }],
  ["1000 ns per computron", { nsPerComputron: 1000 }],
  ["WiFi connect with a scan and a full DHCP exchange (1556 ms)", { wifiConnectMs: 1556 }],
  ["WiFi connect with a static IP (664 ms)", { wifiConnectMs: 664 }],
  ["TLS handshake 2 s", { tlsHandshakeMs: 2000 }],
  ["CPU at 68 mA (datasheet maximum)", { cpuMa: 68 }],
];
for (const s of scenarios) {
  const samples = await runWakes(s.hz, s.syncMins, s.wakes);
  const p = profiles(samples, s.hz);
  const capsync = dailyEnergy(p.capsync);
  const micro = dailyEnergy(p.microServer);
  if (s.name === "scenarioA") {
    const sensitivity: Record<string, string> = {};
    for (const [label, change] of VARIANTS) {
      const inputs = { ...ENERGY_INPUTS, ...change };
      sensitivity[label] =
        `${Math.round(dailyEnergy(p.capsync, inputs).days)} / ${dailyEnergy(p.microServer, inputs).days.toFixed(1)}`;
    }
    figures.sensitivityA = sensitivity;
  }
  figures[s.name] = {
    capsyncDays: Math.round(capsync.days),
    microServerDays: +micro.days.toFixed(1),
    ratio: +(capsync.days / micro.days).toFixed(1),
    capsync: round(capsync),
    microServer: round(micro),
    ...p.perWake,
  };
}
figures.inputs = ENERGY_INPUTS;

const a = figures.scenarioA as Record<string, number & Record<string, number>>;
const b = figures.scenarioB as Record<string, number & Record<string, number>>;
console.log("battery mode on a 2000 mAh cell (energy model: docs/power.md; per-wake work measured in XS)");
console.log(
  "| scenario | capsync days | viam-micro-server mode days | ratio | capsync mAh/day (boot / cpu / flash / radio / sleep) |",
);
console.log("|---|---:|---:|---:|---|");
for (const [name, f] of [
  ["A: 4-field Readings once a minute, hourly sync", a],
  ["B: once every 10 s, sync every 15 min", b],
] as const) {
  const c = f.capsync as unknown as Record<string, number>;
  console.log(
    `| ${name} | ${f.capsyncDays} | ${f.microServerDays} | ${f.ratio}x | ${c.mAhPerDay} (${c.boot} / ${c.cpu} / ${c.flash} / ${c.radio} / ${c.sleep}) |`,
  );
}
console.log("\nper wake (XS computrons, deterministic; ESP32 ms at the stated ns per computron)");
console.log(
  "| scenario | capture wakes/day | sync wakes/day | computrons per capture wake | ESP32 ms | computrons per sync wake | RTC→flash appends/day | flash pages per capture wake |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const [name, f] of [
  ["A", a],
  ["B", b],
] as const) {
  console.log(
    `| ${name} | ${f.captureWakesPerDay} | ${f.syncWakesPerDay} | ${f.captureWakeComputrons} | ${f.captureWakeEsp32Ms} | ${f.syncWakeComputrons} | ${f.rtcFlushesPerDay} | ${f.flashPagesPerCaptureWake} |`,
  );
}
console.log("\nscenario A under other inputs (capsync days / viam-micro-server mode days)");
for (const [label, value] of Object.entries(figures.sensitivityA as Record<string, string>))
  console.log(`  ${label}: ${value}`);
console.log(`BENCH ${JSON.stringify({ key: "power", figures })}`);
