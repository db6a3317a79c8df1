/*
 * A device under test for sync's Node tests: the real DataManager (store on
 * NOR flash emulation, capture, sync) with a fake clock, talking to the real
 * local cloud over loopback HTTP through the keep-alive transport.
 *
 * Fake time and real network mix like this: `run(ms)` moves the fake clock in
 * steps (capture ticks, sync timers fire), and after each step awaits any sync
 * round the step started, so the real HTTP exchange completes before time
 * moves on. Readings carry a never-repeating counter per component (it keeps
 * counting across simulated reboots), so the cloud's contents can be checked
 * reading by reading.
 */

import { NodeHttpTransport } from "../../host/transport";
import type { ModelContext, ModelFactory } from "../../modules/capture/component";
import { COMPONENT_ENCODER, COMPONENT_SENSOR } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { parseMachineConfig } from "../../modules/config/machine-config";
import type { CaptureSettings } from "../../modules/config/settings";
import { DataManager } from "../../modules/manager/data-manager";
import type { KeyValueStore, Logger } from "../../modules/ports";
import { CloudClient } from "../../modules/rpc/cloud-client";
import { NorImage } from "../../modules/storage/nor-image";
import type { BackoffOptions } from "../../modules/sync/backoff";
import type { UploadSender } from "../../modules/sync/target";
import { type Cloud, startCloud } from "../../tools/cloud/index";
import { FakeClock } from "./fake-clock";

export const PART_ID = "part-under-test";
export const SECRET = "secret-under-test";
/** 2023-11-14T22:13:20Z: any valid wall time. */
export const WALL_START = 1_700_000_000_000;

/** Per-component counters that survive "reboots" (they live in the test, not the device). */
export class Counters {
  private readonly values = new Map<string, number>();
  next(name: string): number {
    const n = (this.values.get(name) ?? 0) + 1;
    this.values.set(name, n);
    return n;
  }
  /** Readings taken so far by component `name`. */
  of(name: string): number {
    return this.values.get(name) ?? 0;
  }
}

/** "counter" models: a sensor whose Readings are {n, half: n/2}, an encoder whose ticks are n. */
export function counterModels(counters: Counters): ModelRegistry {
  const sensor: ModelFactory = {
    api: COMPONENT_SENSOR,
    create: ({ name }: ModelContext) => ({
      readings(out) {
        const n = counters.next(name);
        out.number("n", n);
        out.number("half", n / 2);
      },
    }),
  };
  const encoder: ModelFactory = {
    api: COMPONENT_ENCODER,
    create: ({ name }: ModelContext) => ({ ticksCount: () => counters.next(name) }),
  };
  return new ModelRegistry().register("counter", sensor).register("counter", encoder);
}

export interface CollectorSpec {
  name: string;
  /** "sensor" (Readings) or "encoder" (TicksCount). */
  type: "sensor" | "encoder";
  hz: number;
  /** Flash sectors for its ring. */
  sectors?: number;
}

export function machineConfig(
  collectors: CollectorSpec[],
  dataManager: Record<string, unknown> = {},
): unknown {
  return {
    services: [{ name: "dm", api: "rdk:service:data_manager", attributes: dataManager }],
    components: collectors.map((c) => ({
      name: c.name,
      api: `rdk:component:${c.type}`,
      model: "counter",
      attributes: {},
      service_configs: [
        {
          type: "data_manager",
          attributes: {
            capture_methods: [
              {
                method: c.type === "sensor" ? "Readings" : "TicksCount",
                capture_frequency_hz: c.hz,
                ...(c.sectors ? { flash_sectors: c.sectors } : {}),
              },
            ],
          },
        },
      ],
    })),
  };
}

export function settingsFor(
  collectors: CollectorSpec[],
  dataManager: Record<string, unknown> = {},
): CaptureSettings {
  const settings = parseMachineConfig(machineConfig(collectors, dataManager));
  const errors = settings.issues.filter((i) => i.severity === "error");
  if (errors.length) throw new Error(`test config has errors: ${JSON.stringify(errors)}`);
  return settings;
}

export class MemoryKv implements KeyValueStore {
  readonly map = new Map<string, string>();
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, value: string) {
    this.map.set(key, value);
  }
  delete(key: string) {
    this.map.delete(key);
  }
}

export class RecordingLog implements Logger {
  readonly lines: string[] = [];
  constructor(private readonly echo = false) {}
  info(m: string) {
    this.push(`info ${m}`);
  }
  warn(m: string) {
    this.push(`warn ${m}`);
  }
  error(m: string) {
    this.push(`error ${m}`);
  }
  private push(line: string) {
    this.lines.push(line);
    if (this.lines.length > 5000) this.lines.splice(0, 1000);
    if (this.echo) console.log(line);
  }
}

export interface RigOptions {
  tls?: boolean;
  flashBytes?: number;
  backoff?: BackoffOptions;
  /** Client deadline per call (real ms). */
  timeoutMs?: number;
  /** With tls: give the transport the cloud's CA (default true); false = an unverifiable server. */
  trustCa?: boolean;
}

/** One cloud + one device "hardware" (flash, clock, kv) that can be booted repeatedly. */
export class Rig {
  readonly counters = new Counters();
  /** Replaced at every power cycle: a reboot restarts the monotonic clock. */
  clock = new FakeClock();
  readonly kv = new MemoryKv();
  readonly log = new RecordingLog(process.env.SYNC_TEST_LOG === "1");
  readonly flash: NorImage;
  cloud!: Cloud;
  transport!: NodeHttpTransport;
  client!: CloudClient;
  manager: DataManager | undefined;
  boots = 0;

  constructor(private readonly options: RigOptions = {}) {
    this.flash = new NorImage({ size: options.flashBytes ?? 256 * 1024, sectorSize: 4096 });
    this.clock.setWall(WALL_START);
  }

  async start(): Promise<this> {
    this.cloud = await startCloud({
      port: 0,
      host: "127.0.0.1",
      parts: [{ id: PART_ID, secret: SECRET }],
      tls: this.options.tls ?? false,
    });
    this.connect();
    return this;
  }

  /**
   * The device's sender: forwards to the current client, so a test can swap the
   * client (`connect`, `setDeadline`) under a running device.
   */
  readonly sender: UploadSender = {
    send: (request) => this.client.send(request),
    sendFramed: (frame) => this.client.sendFramed(frame),
  };

  /** Change the client's per-call deadline (real ms) from now on: a new connection and token. */
  setDeadline(timeoutMs: number): void {
    this.options.timeoutMs = timeoutMs;
    this.connect();
  }

  /** A fresh transport + client (a rebooted device has no connection or token). */
  connect(): void {
    this.transport?.close();
    const trust = this.options.trustCa ?? true;
    this.transport = new NodeHttpTransport(
      this.cloud.url,
      this.cloud.ca && trust ? { ca: this.cloud.ca } : {},
    );
    this.client = new CloudClient({
      transport: this.transport,
      partId: PART_ID,
      secret: SECRET,
      timeoutMs: this.options.timeoutMs ?? 2_000,
      logger: this.log,
    });
  }

  boot(settings: CaptureSettings, sender?: UploadSender): DataManager {
    this.boots++;
    this.manager = new DataManager({
      flash: this.flash,
      clock: this.clock,
      timers: this.clock,
      kv: this.kv,
      log: this.log,
      registry: counterModels(this.counters),
      partId: PART_ID,
      sender: sender ?? this.sender,
      settings,
      backoff: this.options.backoff ?? { jitter: 0 },
    });
    return this.manager;
  }

  /**
   * Power off (whatever state the device is in) and back on after `offMs`:
   * the old device's in-flight request is allowed to end first (a dead
   * device cannot commit, and its late commit must not reach the repowered
   * flash), its timers stay in the old clock, never to fire again.
   */
  async powerCycle(settings: CaptureSettings, offMs = 5_000, sender?: UploadSender): Promise<DataManager> {
    const old = this.manager;
    this.manager = undefined;
    if (old) await old.sync.idle();
    const wall = this.clock.wall() + offMs;
    this.clock = new FakeClock();
    this.clock.setWall(wall);
    this.flash.disarm();
    this.flash.reboot();
    this.connect();
    return this.boot(settings, sender);
  }

  /**
   * Advance fake time by `ms` in steps of at most `stepMs`, letting each sync
   * round the step starts finish on the real network before time moves on.
   */
  async run(ms: number, stepMs = 1_000, each?: () => boolean | undefined): Promise<void> {
    const end = this.clock.monotonic() + ms;
    // At least one step, so timers due right now fire even for ms = 0.
    for (let first = true; first || this.clock.monotonic() < end; first = false) {
      // Stop exactly at a sync round's due time, so the round runs at that fake instant.
      const due = this.manager?.sync.status().nextRoundInMs ?? Number.NaN;
      let target = Math.min(end, this.clock.monotonic() + stepMs);
      if (Number.isFinite(due)) target = Math.min(target, this.clock.monotonic() + Math.max(due, 0.001));
      this.clock.advanceTo(target);
      await this.settle();
      if (each?.() === false) return;
    }
  }

  /** Wait for a running sync round (real network) to finish. */
  async settle(): Promise<void> {
    const manager = this.manager;
    if (!manager) return;
    await new Promise((resolve) => setImmediate(resolve));
    await manager.sync.idle();
  }

  /** Advance exactly to the next scheduled sync round and let it finish. */
  async nextRound(): Promise<void> {
    const wait = this.manager!.sync.status().nextRoundInMs;
    if (!Number.isFinite(wait)) throw new Error("no round scheduled");
    await this.run(wait, Math.max(wait, 1));
  }

  /** Readings the cloud holds for a component, as their counter values in arrival order. */
  cloudValues(component: string): number[] {
    const out: number[] = [];
    let afterId = 0;
    for (;;) {
      const page = this.cloud.readings({ partId: PART_ID, componentName: component, afterId, limit: 5000 });
      if (page.length === 0) break;
      for (const r of page) out.push(counterValue(r.data));
      afterId = page[page.length - 1]!.id;
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.manager?.close().catch(() => undefined);
    this.transport?.close();
    await this.cloud?.close();
  }
}

/** The counter value of a stored reading: Readings {readings: {n}} or TicksCount {ticks}. */
export function counterValue(data: unknown): number {
  const d = data as { readings?: { n?: number }; ticks?: number };
  if (d?.readings && typeof d.readings.n === "number") return d.readings.n;
  if (typeof d?.ticks === "number") return d.ticks;
  throw new Error(`unexpected reading ${JSON.stringify(data)}`);
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
