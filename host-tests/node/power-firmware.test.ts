// Battery mode through the firmware (modules/power/powered-firmware.ts: the
// capture wakes, the sync-wake controller over the whole firmware) on Node
// ports against the real local cloud over loopback, with deep sleep emulated
// the way the simulator does it: RTC memory in a variable, the RTC clock
// fast-forwarded by each sleep. The simulator lane runs the same cycle on
// Moddable; this one runs where no SDK is installed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { LinkEvent, NetworkLink } from "../../modules/app/network-supervisor";
import { SettableWallClock } from "../../modules/app/wall-clock";
import { simulatedModels } from "../../modules/capture/simulated";
import { FALLBACK_SLEEP_MS, startPowered } from "../../modules/power/powered-firmware";
import { decodeRtcImage } from "../../modules/power/rtc-image";
import type { SleepPort, WakeCause } from "../../modules/power/sleep-port";
import { NorImage } from "../../modules/storage/nor-image";
import { type MachineConfigJson, startCloud } from "../../tools/cloud/index";
import { NodeTimers } from "../../tools/demo/node-ports";
import { MemoryKv, RecordingLog } from "../core/boot-fixtures";
import { batteryMachineConfig } from "../sim/power";
import { nodeStream } from "../support/node-stream";

const PART = "5e1f0c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b";
const SECRET = "node-secret";

const upLink = (): NetworkLink => ({
  start(listener: (e: LinkEvent) => void) {
    listener("up");
  },
  retry() {},
  close() {},
});

class EmulatedChip implements SleepPort {
  wakeCause: WakeCause = "power-on";
  rtc: Uint8Array | undefined;
  offsetMs = 0;
  onSleep: ((ms: number) => void) | undefined;
  rtcMs(): number {
    return Date.now() + this.offsetMs;
  }
  loadRtc(): Uint8Array | undefined {
    return this.rtc?.slice();
  }
  saveRtc(bytes: Uint8Array): void {
    this.rtc = bytes.slice();
  }
  deepSleep(ms: number): void {
    this.onSleep?.(ms);
  }
}

const cloud = await startCloud({
  port: 0,
  dbPath: ":memory:",
  parts: [{ id: PART, secret: SECRET }],
  machineConfig: batteryMachineConfig() as unknown as MachineConfigJson,
});
after(() => cloud.close());

/** The device's lasting parts: NVS with the credentials, the flash, the config flash. */
function device(): { kv: MemoryKv; flash: NorImage; configFlash: NorImage } {
  const kv = new MemoryKv();
  kv.set("part_id", PART);
  kv.set("part_secret", SECRET);
  kv.set("app_address", cloud.url);
  return { kv, flash: new NorImage({ size: 64 * 4096 }), configFlash: new NorImage({ size: 4 * 4096 }) };
}

/**
 * One start of the chip: the firmware on Node ports and the host's Date clock for both the platform
 * clock and the emulated RTC (two host clocks drift apart). `slept` resolves with the sleep it asked for.
 */
function startChip(chip: EmulatedChip, parts: ReturnType<typeof device>) {
  const log = new RecordingLog();
  const timers = new NodeTimers();
  const bootMs = Date.now();
  const clock = new SettableWallClock(() => Date.now() - bootMs);
  clock.set(Date.now() + chip.offsetMs, "host clock");
  const slept = new Promise<number>((resolve) => {
    chip.onSleep = resolve;
  });
  const started = startPowered(
    {
      ...parts,
      clock,
      timers,
      log,
      registry: simulatedModels(),
      openLink: upLink,
      openStream: () => nodeStream(cloud.port),
    },
    chip,
  );
  return { log, timers, slept, started };
}

test("battery mode through the firmware: capture wakes stay offline, sync wakes upload every reading once with its time", async () => {
  const chip = new EmulatedChip();
  const parts = device();
  const wakes: {
    kind: string;
    taken: number;
    start: number;
    end: number;
    connections: number;
    lines: string[];
  }[] = [];
  for (let i = 0; i < 12; i++) {
    const connectionsBefore = cloud.stats.connections;
    const start = chip.rtcMs();
    const { log, timers, slept, started } = startChip(chip, parts);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`wake ${i} never slept:\n${log.lines.join("\n")}`)), 20_000),
    );
    const sleepMs = await Promise.race([slept, timeout]);
    const end = chip.rtcMs();
    timers.halt();
    const kind = started.kind === "capture" ? "capture" : "sync";
    wakes.push({
      kind,
      taken: started.run.taken,
      start,
      end,
      connections: cloud.stats.connections - connectionsBefore,
      lines: log.lines,
    });
    if (i === 0) assert.ok(log.has("I", /start after power-on: a reboot for the reboot rule/));
    else assert.ok(log.has("I", /woke from deep sleep/), log.lines.join("\n"));
    // The next start: the RTC went on for the sleep.
    chip.offsetMs += sleepMs;
    chip.wakeCause = "deep-sleep";
  }
  const kinds = wakes.map((w) => w.kind[0]).join("");
  assert.ok(/^s(c+s)+/.test(kinds), kinds);
  for (const w of wakes)
    if (w.kind === "capture") assert.equal(w.connections, 0, "a capture wake opened a connection");
  const rows = cloud
    .readings({ componentName: "soil", methodName: "Readings" })
    .map((r) => r.timeRequestedMs!);
  assert.equal(new Set(rows).size, rows.length, "duplicates in the cloud");
  // Up to the last sync wake that completed its round (a loaded machine may make one reach its bound).
  let lastSync = -1;
  wakes.forEach((w, i) => {
    if (w.lines.some((l) => /power: sync wake done/.test(l))) lastSync = i;
  });
  let expected = 0;
  for (const w of wakes.slice(0, lastSync)) {
    const inside = rows.filter((t) => t >= w.start - 5 && t <= w.end + 5).length;
    assert.equal(
      inside,
      w.taken,
      `a ${w.kind} wake took ${w.taken}, the cloud holds ${inside} from its span [${w.start}, ${w.end}] (cloud: ${rows.join(", ")}):\n${w.lines.join("\n")}`,
    );
    expected += w.taken;
  }
  assert.ok(expected >= 5, `readings ${expected} (${kinds})`);

  // Battery mode switched off in the cloud: the next sync wake stays awake and clears RTC memory.
  const off = batteryMachineConfig() as { services: { attributes: Record<string, unknown> }[] };
  off.services[0]!.attributes = { sync_interval_mins: 0.05 };
  cloud.setConfig(off as unknown as MachineConfigJson);
  let stayedAwake = false;
  for (let i = 0; i < 8 && !stayedAwake; i++) {
    const { log, timers, slept, started } = startChip(chip, parts);
    const outcome = await Promise.race([
      slept,
      new Promise<"awake">((r) => setTimeout(() => r("awake"), 4000)),
    ]);
    if (outcome === "awake") {
      stayedAwake = true;
      assert.ok(log.has("I", /battery mode is off; RTC memory cleared/), log.lines.join("\n"));
      assert.equal(decodeRtcImage(chip.rtc).ok, false, "RTC memory cleared");
      assert.ok(started.firmware?.manager()?.status().captureDisabled === false, "capture runs again");
      const manager = started.firmware!.manager();
      started.firmware!.close();
      await manager?.close();
    } else {
      chip.offsetMs += outcome;
    }
    timers.halt();
  }
  assert.ok(stayedAwake, "the device kept sleeping after battery mode was switched off");
});

test("battery mode through the firmware: an upload that hangs does not keep the radio up past the wake's bound", async () => {
  const config = batteryMachineConfig() as { services: { attributes: Record<string, unknown> }[] };
  config.services[0]!.attributes = {
    ...config.services[0]!.attributes,
    deep_sleep_action_timeout_seconds: 3,
  };
  cloud.setConfig(config as unknown as MachineConfigJson);
  // The upload is held for 20 s: far past the bound (3 s) and the closing grace (2 s after it).
  cloud.faults.add({ kind: "delay", ms: 20_000, method: "DataCaptureUpload", times: 1 });
  const chip = new EmulatedChip();
  const parts = device();
  let lines: string[] = [];
  // Wake 0: power-on, the config arrives, nothing to upload yet. Then capture wakes until a sync wake.
  for (let i = 0; i < 12; i++) {
    const { log, timers, slept, started } = startChip(chip, parts);
    // 3 s bound + 2 s closing grace + polling: 60 s is a margin no loaded machine misses.
    const sleepMs = await Promise.race([
      slept,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`wake ${i} never slept:\n${log.lines.join("\n")}`)), 60_000),
      ),
    ]);
    timers.halt();
    lines = log.lines;
    chip.offsetMs += sleepMs;
    chip.wakeCause = "deep-sleep";
    if (i > 0 && started.kind === "firmware") break;
  }
  assert.ok(
    // The held upload also holds the kept-alive connection, so the config poll may wait behind it.
    lines.some((l) =>
      /reached its 3000 ms bound (while syncing|before it could sync); stopping where it is/.test(l),
    ),
    lines.join("\n"),
  );
  assert.ok(
    lines.some((l) => /sync wake ended without a complete sync/.test(l)),
    lines.join("\n"),
  );
  const image = decodeRtcImage(chip.rtc);
  assert.ok(image.ok && image.state.overruns >= 1, "the overrun is counted in RTC memory");
  cloud.faults.clear();
});

test("battery mode through the firmware: a sync wake whose end fails (RTC memory refuses the image) still sleeps", async () => {
  cloud.setConfig(batteryMachineConfig() as unknown as MachineConfigJson);
  const chip = new EmulatedChip();
  chip.saveRtc = () => {
    throw new Error("RTC memory write refused");
  };
  const { log, timers, slept } = startChip(chip, device());
  const sleepMs = await Promise.race([
    slept,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`never slept:\n${log.lines.join("\n")}`)), 60_000),
    ),
  ]);
  timers.halt();
  assert.equal(sleepMs, FALLBACK_SLEEP_MS);
  assert.ok(
    log.lines.some((l) => /ending the sync wake failed \(RTC memory write refused\)/.test(l)),
    log.lines.join("\n"),
  );
});
