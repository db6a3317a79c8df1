/*
 * Battery mode on fake ports (both lanes: no Node APIs): a chip whose RTC
 * memory survives deep sleep and not a power cut, a counter sensor whose
 * every reading has an identity and a true time, the NOR emulation with power
 * cuts, and an in-process cloud that decodes each upload. `wake()` runs one
 * start of the chip the way modules/power/powered-firmware.ts does (capture
 * wake, or the data manager with battery mode's hooks for a sync wake).
 */
import { FlashConfigCache } from "../../modules/app/config-cache";
import { SettableWallClock } from "../../modules/app/wall-clock";
import type { Component, ModelFactory } from "../../modules/capture/component";
import { COMPONENT_SENSOR } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { DataManager } from "../../modules/manager/data-manager";
import type { Logger } from "../../modules/ports";
import { runCaptureWake } from "../../modules/power/capture-wake";
import { PowerRun } from "../../modules/power/power-run";
import {
  batteryHooks,
  cachedSettings,
  endSyncWake,
  isBatteryMode,
} from "../../modules/power/powered-firmware";
import { decodeRtcImage } from "../../modules/power/rtc-image";
import type { SleepPort, WakeCause } from "../../modules/power/sleep-port";
import { ProtoWriter } from "../../modules/proto/writer";
import { Code, RpcError } from "../../modules/rpc/status";
import { NorImage, PowerCutError } from "../../modules/storage/nor-image";
import type { UploadSender } from "../../modules/sync/target";
import { FakeClock } from "./fake-clock";
import { decodeSensorDataFields } from "./sensors-decode";
import { MemoryKv } from "./sensors-rig";
import { readUploadRequest } from "./sync-fakes";

export const EPOCH_MS = Date.UTC(2026, 0, 1);

export class FakeSleepPort implements SleepPort {
  wakeCause: WakeCause = "power-on";
  /** RTC memory: kept through deep sleep and resets, lost at a power cut. */
  rtc: Uint8Array | undefined;
  /** The RTC timer (ms). */
  now = 1000;
  sleepMs: number | undefined;
  saves = 0;
  rtcMs(): number {
    return this.now;
  }
  loadRtc(): Uint8Array | undefined {
    return this.rtc?.slice();
  }
  saveRtc(bytes: Uint8Array): void {
    this.rtc = bytes.slice();
    this.saves++;
  }
  deepSleep(ms: number): void {
    this.sleepMs = ms;
  }
}

/** A reading's identity: "<component>#<n>". */
export type ReadingId = string;

/** The physical world: sensors that count, and the true time of every read. */
export class World {
  readonly reads = new Map<string, number>();
  /** True wall ms of each reading taken. */
  readonly truth = new Map<ReadingId, number>();
  /** ms each read takes on the RTC. */
  readCostMs = 20;
  failNext = false;
  constructor(readonly port: FakeSleepPort) {}

  registry(): ModelRegistry {
    const factory: ModelFactory = {
      api: COMPONENT_SENSOR,
      create: ({ name }): Component => ({
        readings: (out) => {
          if (this.failNext) {
            this.failNext = false;
            throw new Error("sensor unplugged");
          }
          const n = (this.reads.get(name) ?? 0) + 1;
          this.reads.set(name, n);
          this.truth.set(`${name}#${n}`, EPOCH_MS + this.port.now);
          this.port.now += this.readCostMs;
          out.number("n", n);
          out.number("temperature_c", 20 + (n % 7) / 10);
          out.number("humidity_pct", 40 + (n % 11));
          out.number("battery_v", 3.7 - n / 1e6);
        },
      }),
    };
    return new ModelRegistry().register("counter", factory);
  }
}

export function batteryConfig(
  sensors: { name: string; hz: number }[],
  dm: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    services: [
      {
        name: "dm",
        api: "rdk:service:data_manager",
        attributes: { power_mode: "deep_sleep", sync_interval_mins: 60, ...dm },
      },
    ],
    components: sensors.map((s) => ({
      name: s.name,
      api: "rdk:component:sensor",
      model: "counter",
      service_configs: [
        {
          type: "data_manager",
          attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: s.hz }] },
        },
      ],
    })),
  };
}

export interface Arrival {
  id: ReadingId;
  requestedMs: number;
  /** The wake during which the cloud stored it. */
  wake: number;
  /** Which request carried it (counted from 1). */
  request: number;
}

/** The cloud: stores every SensorData of every request it accepts; can be made unavailable. */
export class RecordingCloud implements UploadSender {
  arrivals: Arrival[] = [];
  available = true;
  wake = 0;
  requests = 0;
  /** The device lost power (nothing more reaches the cloud). */
  deviceOff: () => boolean = () => false;
  async send(body: Uint8Array): Promise<void> {
    if (this.deviceOff()) throw new RpcError(Code.UNAVAILABLE, "the device has no power", "refused");
    if (!this.available) throw new RpcError(Code.UNAVAILABLE, "cloud unavailable", "refused");
    const { component, sensorData } = readUploadRequest(body);
    const request = ++this.requests;
    for (const d of sensorData) {
      const [decoded] = decodeSensorDataFields(withField(d), 2);
      const readings = (decoded!.payload.readings ?? {}) as Record<string, unknown>;
      this.arrivals.push({
        id: `${component}#${readings.n as number}`,
        requestedMs: decoded!.requestedUs / 1000,
        wake: this.wake,
        request,
      });
    }
  }
}

function withField(sensorData: Uint8Array): Uint8Array {
  const w = new ProtoWriter(sensorData.length + 8);
  w.bytes(2, sensorData);
  return w.finish().slice();
}

export class RecordingLog implements Logger {
  lines: string[] = [];
  info(m: string): void {
    this.lines.push(`I ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`W ${m}`);
  }
  error(m: string): void {
    this.lines.push(`E ${m}`);
  }
}

export interface WakeOutcome {
  kind: "capture" | "sync" | "cut";
  /** The kind of wake that ran (also for a cut one). */
  during: "capture" | "sync" | "start";
  sleepMs: number;
  run: PowerRun;
}

/** The device: its flash, NVS and RTC outlive every start; a power cut loses RTC memory. */
export class BatteryDevice {
  readonly port = new FakeSleepPort();
  readonly world = new World(this.port);
  readonly flash = new NorImage({ size: 64 * 4096 });
  readonly configFlash = new NorImage({ size: 2 * 4096 });
  readonly kv = new MemoryKv();
  readonly cloud = new RecordingCloud();
  readonly registry = this.world.registry();
  log = new RecordingLog();
  /** SNTP answers at sync wakes. */
  sntp = true;
  wakes = 0;
  /** The run time one reading took on the last wake (checked by tests). */
  lastSync: { ok: boolean; manager: DataManager | undefined } | undefined;

  constructor(config: Record<string, unknown>) {
    this.setConfig(config);
    this.cloud.deviceOff = () => this.flash.poweredOff;
  }

  /** The cached config, as a previous cloud fetch left it. */
  setConfig(config: Record<string, unknown>): void {
    new FlashConfigCache(this.configFlash).save(JSON.stringify({ revision: `r${this.wakes}`, config }));
  }

  /** One start of the chip. A PowerCutError from the flash ends it as a cut. */
  async wake(): Promise<WakeOutcome> {
    this.wakes++;
    this.cloud.wake = this.wakes;
    this.port.sleepMs = undefined;
    const log = this.log;
    const ports = { configFlash: this.configFlash, log };
    let run: PowerRun | undefined;
    let during: WakeOutcome["during"] = "start";
    try {
      const cached = cachedSettings(ports);
      run = new PowerRun(this.port, log, cached?.dataManager.retainUnsyncedOnReboot === true);
      if (!cached || !isBatteryMode(cached)) throw new Error("the rig runs battery mode only");
      if (run.continuesRun && !run.wantsSync(cached)) {
        during = "capture";
        const report = runCaptureWake(run, cached, { flash: this.flash, registry: this.registry, log });
        // The core catches flash errors to keep running; a cut stops the chip whatever the code does next.
        if (this.flash.poweredOff) throw new PowerCutError("cut during the capture wake");
        return { kind: "capture", during, sleepMs: report.sleepMs, run };
      }
      during = "sync";
      if (run.continuesRun) run.takeDueReadings(cached, this.registry, 1000);
      const thisRun = run;
      const clock = new SettableWallClock(() => thisRun.runNow());
      if (run.continuesRun && Number.isFinite(run.state.wallOffsetMs))
        clock.set(run.runNow() + run.state.wallOffsetMs, "RTC");
      else if (this.sntp) clock.set(EPOCH_MS + this.port.now, "SNTP");
      const hooks = batteryHooks(run, cached, log);
      const timers = new FakeClock();
      const manager = new DataManager({
        ...hooks.managerOptions(),
        flash: this.flash,
        clock,
        timers,
        kv: this.kv,
        log,
        registry: this.registry,
        partId: "part",
        sender: this.cloud,
        settings: hooks.managerSettings(cached),
        backoff: { jitter: 0 },
      });
      // WiFi + TLS + upload take time on the RTC too.
      this.port.now += 1500;
      if (!clock.valid && this.sntp) clock.set(EPOCH_MS + this.port.now, "SNTP");
      manager.capture.noteClock();
      const result = await manager.syncNow();
      const ok = result.ok && this.cloud.available;
      this.lastSync = { ok, manager };
      const sleepMs = await endSyncWake(run, manager, cached, ok, clock, { registry: this.registry, log });
      if (this.flash.poweredOff) throw new PowerCutError("cut during the sync wake");
      return { kind: "sync", during, sleepMs, run };
    } catch (error) {
      if (!(error instanceof PowerCutError)) throw error;
      return { kind: "cut", during, sleepMs: 0, run: run! };
    }
  }

  /** Sleep as the last wake asked, then wake from deep sleep. */
  sleep(ms: number): void {
    this.port.now += ms;
    this.port.wakeCause = "deep-sleep";
  }

  /** Power lost (now): RTC memory is gone; the flash keeps what the cut left. */
  powerCut(): void {
    this.port.rtc = undefined;
    this.port.wakeCause = "power-on";
    this.flash.reboot();
    this.port.now += 5000;
  }

  /** Readings RTC memory holds now (decoded from the image). */
  heldInRtc(): ReadingId[] {
    const decoded = decodeRtcImage(this.port.rtc);
    if (!decoded.ok) return [];
    const settings = cachedSettings({ configFlash: this.configFlash, log: this.log });
    const keys = (settings?.collectors ?? [])
      .filter((c) => !c.disabled)
      .map((c) => c.key)
      .sort();
    const transcoder = new SensorDataTranscoder({ offsetUs: () => 0 });
    const ids: ReadingId[] = [];
    for (const r of decoded.state.records) {
      const w = new ProtoWriter(4096);
      transcoder.writeSensorData(r.bytes, w, 2);
      const name = keys[r.slot]!.split("/")[1]!;
      for (const d of decodeSensorDataFields(w.finish().slice(), 2)) {
        const readings = d.payload.readings as Record<string, unknown>;
        ids.push(`${name}#${readings.n as number}`);
      }
    }
    return ids;
  }

  /** Parse the cached config (tests compare against it). */
  settings() {
    return parseMachineConfig(JSON.parse(new FlashConfigCache(this.configFlash).load()!).config);
  }
}
