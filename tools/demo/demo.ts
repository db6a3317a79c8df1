/*
 * The desktop demo as an object: a local cloud (durable SQLite, the browse
 * page mounted on it) and a simulated capsync device running the firmware's
 * own boot code against it. Every control a person has in the terminal is a
 * method here, so tests drive exactly what the keys do.
 *
 * Files under `dataDir` (all survive a restart, so a second start continues):
 *   cloud.sqlite          what the cloud received
 *   flash.img, config.img the device's capture and config partitions (NOR images)
 *   nvs.json              the device's NVS (credentials, boot timeline)
 *   viam.json             the part's credentials, as Viam's viam.json shapes them
 *   machine-config.json   the machine config the cloud serves (frequency changes land here)
 *   wear.json             erases per flash sector over the image's life
 */
import { randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import type { DataManagerStatus } from "../../modules/manager/data-manager.ts";
import type { Logger } from "../../modules/ports.ts";
import type { TearMode } from "../../modules/storage/nor-image.ts";
import { type Cloud, type MachineConfigJson, startCloud } from "../cloud/index.ts";
import { createWebRoutes, type WebRoutes } from "../web/routes.ts";
import { SqliteReadingsSource } from "../web/sqlite-readings-source.ts";
import { RecentLog } from "./node-ports.ts";
import {
  CONFIG_FLASH_BYTES,
  DEFAULT_FLASH_BYTES,
  type PowerCutPlan,
  SimulatedDevice,
} from "./simulated-device.ts";
import { SimulatedNetwork } from "./simulated-network.ts";
import type { CollectorStatus, DemoStatus, SyncStatus } from "./status.ts";
import { WearCounter } from "./wear.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
/** The example machine config the demo serves on first start (capture's; the cloud's as a fallback). */
export const exampleConfigPaths = [
  path.join(repoRoot, "examples/machine-config.json"),
  path.join(repoRoot, "tools/demo/fallback-machine-config.json"),
];

export interface DemoOptions {
  dataDir: string;
  /** Port of the local cloud (and web page); 0 picks a free one. */
  port?: number;
  /** The port was asked for (--port): taken means a clear failure. Otherwise a taken port means a free one instead. */
  portExplicit?: boolean;
  host?: string;
  /** Machine config for a fresh data dir (later starts use dataDir/machine-config.json). */
  machineConfigPath?: string;
  /** How often the device polls the cloud for config changes (demo default 2 s; the firmware's default is 1 min). */
  configPollSecs?: number;
  flashBytes?: number;
  log?: RecentLog;
}

/** Readings counts of boots that ended, per collector key. */
interface PastBoots {
  captured: number;
  synced: number;
  dropped: number;
  lost: number;
  setAside: number;
  missed: number;
}

interface Credentials {
  partId: string;
  secret: string;
}

export interface RebootOptions {
  /** Flash operations to let through before the torn one (default: random 0–7). */
  afterOperations?: number;
  /** How the torn operation leaves flash (default: random). */
  tear?: TearMode;
  /** Give up waiting for a flash operation after this long and cut between operations (default 4 s). */
  maxWaitMs?: number;
  /** Time the device stays off (default 400 ms). */
  offMs?: number;
}

const tears: TearMode[] = ["none", "prefix", "bits", "random"];

/**
 * A startup problem with one of the demo's files: the message names the file,
 * says what is wrong and what to do. main.ts prints it and exits non-zero.
 */
export class StartupError extends Error {}

function readJson(file: string, advice: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new StartupError(`${file} cannot be read (${(error as Error).message}). ${advice}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StartupError(`${file} is damaged: not valid JSON (${(error as Error).message}). ${advice}`);
  }
}

/**
 * The device's files, checked before anything starts: a damaged one stops
 * the demo with a message that names it and says what to do, instead of
 * being replaced (flash.img holds unsynced readings) or read as empty.
 */
export function checkDeviceFiles(
  dataDir: string,
  flashBytes: number,
  configFlashBytes: number,
): { configImageHasData: boolean } {
  const nvs = path.join(dataDir, "nvs.json");
  if (fs.existsSync(nvs)) {
    const parsed = readJson(
      nvs,
      "It is the simulated device's NVS (credentials copied from viam.json, boot timeline); delete it and start again: the device is provisioned again from viam.json and no reading is lost.",
    );
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new StartupError(
        `${nvs} is damaged: expected a JSON object of string values. Delete it and start again (the device is provisioned again from viam.json; no reading is lost).`,
      );
    }
  }
  const image = (name: string, expected: number, holds: string): void => {
    const file = path.join(dataDir, name);
    if (!fs.existsSync(file)) return;
    const size = fs.statSync(file).size;
    if (size === expected) return;
    throw new StartupError(
      `${file} is damaged: ${size} bytes where the device's partition is ${expected} bytes (truncated, or from another flash size). ` +
        `It ${holds}; the demo does not replace it. To keep it, restore the whole file; to start from a blank image, move it away (mv ${file} ${file}.damaged) and start again.`,
    );
  };
  image(
    "flash.img",
    flashBytes,
    "holds the captured readings not yet synced (a blank image would discard them)",
  );
  image("config.img", configFlashBytes, "holds the cached machine config (the cloud serves it again)");
  // A config image that is not blank but holds no valid cache reads as "no cached config yet" to the
  // firmware; the caller warns that it is damaged when that happens.
  const configImage = path.join(dataDir, "config.img");
  const configImageHasData =
    fs.existsSync(configImage) && !fs.readFileSync(configImage).every((b) => b === 0xff);
  return { configImageHasData };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Demo {
  readonly dataDir: string;
  readonly cloud: Cloud;
  readonly network = new SimulatedNetwork();
  readonly log: RecentLog;
  readonly readings: SqliteReadingsSource;
  private readonly credentials: Credentials;
  private readonly wear: WearCounter;
  private readonly flashBytes: number | undefined;
  private config: MachineConfigJson;
  private device: SimulatedDevice | undefined;
  private deviceState = "booting";
  private boots = 0;
  private readonly startedAt = Date.now();
  private readonly past = new Map<string, PastBoots>();
  /** Readings in flash at each power cut, expected to be found (and discarded) at the next boot. */
  private inFlashAtCut = 0;
  /** Readings discarded at this run's first boot: captured by an earlier run, not this one. */
  private carriedIn = 0;
  /** The same, per collector key: shown apart from this run's `lost`. */
  private readonly carriedInByKey = new Map<string, number>();
  private firstBootSettled = false;
  private rebooting: Promise<void> | undefined;
  private stopped: DemoStatus | undefined;
  private lastStatus: DataManagerStatus | undefined;

  private constructor(
    options: DemoOptions,
    cloud: Cloud,
    readings: SqliteReadingsSource,
    credentials: Credentials,
    config: MachineConfigJson,
    log: RecentLog,
  ) {
    this.dataDir = options.dataDir;
    this.cloud = cloud;
    this.readings = readings;
    this.credentials = credentials;
    this.config = config;
    this.log = log;
    this.flashBytes = options.flashBytes;
    this.wear = new WearCounter(
      (options.flashBytes ?? 1024 * 1024) / 4096,
      path.join(options.dataDir, "wear.json"),
    );
  }

  static async start(options: DemoOptions): Promise<Demo> {
    const log = options.log ?? new RecentLog();
    fs.mkdirSync(options.dataDir, { recursive: true });
    takeLock(options.dataDir);
    try {
      return await Demo.open(options, log);
    } catch (error) {
      releaseLock(options.dataDir);
      throw error;
    }
  }

  private static async open(options: DemoOptions, log: RecentLog): Promise<Demo> {
    const credentials = loadOrCreateCredentials(options.dataDir);
    const config = loadMachineConfig(options, log);
    const files = checkDeviceFiles(
      options.dataDir,
      options.flashBytes ?? DEFAULT_FLASH_BYTES,
      CONFIG_FLASH_BYTES,
    );
    // The page needs the cloud's database, which exists once the cloud has started.
    let web: WebRoutes | undefined;
    const cloudOptions = {
      host: options.host ?? "127.0.0.1",
      dbPath: path.join(options.dataDir, "cloud.sqlite"),
      // The config revision continues from the last run's, so the device's log never reads like a rollback.
      parts: [
        { id: credentials.partId, secret: credentials.secret, revision: loadRevision(options.dataDir) },
      ],
      machineConfig: config,
      extraRoutes: (req: IncomingMessage, res: ServerResponse) => (web ? web(req, res) : false),
      log: (line: string) => {
        if (!line.startsWith("DataCaptureUpload") && !line.startsWith("Config"))
          log.child("cloud").info(line);
      },
    };
    let cloud: Cloud;
    const port = options.port ?? 0;
    if (port !== 0 && !(await portIsFree(cloudOptions.host, port))) {
      if (options.portExplicit) {
        throw new StartupError(
          `port ${port} is taken (another program, or another demo, listens on ${cloudOptions.host}:${port}); stop it, or choose another with --port N (--port 0 picks a free one)`,
        );
      }
      cloud = await startCloud({ ...cloudOptions, port: 0 });
      log.info(`demo: port ${port} is taken; the local cloud and web page use port ${cloud.port} instead`);
    } else {
      cloud = await startCloud({ ...cloudOptions, port });
    }
    const readings = new SqliteReadingsSource(cloud.store.db);
    web = createWebRoutes(readings);
    const demo = new Demo(options, cloud, readings, credentials, config, log);
    demo.configImageHadData = files.configImageHasData;
    log.info(`demo: local cloud at ${cloud.url} (database ${cloudOptions.dbPath})`);
    try {
      demo.bootDevice();
    } catch (error) {
      // Nothing may keep the process alive after a failed start: close the cloud (and its database).
      await cloud.close();
      throw error;
    }
    return demo;
  }

  get url(): string {
    return this.cloud.url;
  }

  /** The device of the current boot (undefined while it is off). */
  get currentDevice(): SimulatedDevice | undefined {
    return this.device;
  }

  get networkUp(): boolean {
    return this.network.up;
  }

  cutNetwork(): void {
    if (!this.network.up) return;
    this.network.cut();
    this.log.warn("demo: network CUT (WiFi lost: connections drop, new ones are refused)");
  }

  restoreNetwork(): void {
    if (this.network.up) return;
    this.network.restore();
    this.log.info("demo: network restored");
  }

  toggleNetwork(): void {
    if (this.network.up) this.cutNetwork();
    else this.restoreNetwork();
  }

  /** "Sync now" on the device; resolves true when the round succeeded. */
  async syncNow(): Promise<boolean> {
    const device = this.device;
    if (!device) return false;
    this.log.info("demo: sync now");
    return device.syncNow();
  }

  /**
   * Change one collector's capture frequency in the machine config the cloud
   * serves. The device sees the new revision at its next config poll and
   * reconfigures without a reboot. Returns the new revision.
   */
  setFrequency(key: string, hz: number): string {
    if (!(hz > 0) || !Number.isFinite(hz))
      throw new RangeError(`frequency must be a positive number, got ${hz}`);
    const [, componentName, method, parameter] = splitKey(key);
    const next = structuredClone(this.config) as MachineConfigJson;
    const component = next.components?.find((c) => c.name === componentName);
    const dm = component?.service_configs?.find(
      (s) => s.type === "data_manager" || s.type === "rdk:service:data_manager",
    );
    const methods = (dm?.attributes as { capture_methods?: Record<string, unknown>[] } | undefined)
      ?.capture_methods;
    const entry = methods?.find((m) => {
      if (m.method !== method) return false;
      if (!parameter) return true;
      const params = (m.additional_params ?? {}) as Record<string, unknown>;
      return Object.values(params).includes(parameter);
    });
    if (!entry) throw new Error(`no capture method ${componentName}/${method} in the machine config`);
    const before = entry.capture_frequency_hz;
    entry.capture_frequency_hz = hz;
    const revision = this.cloud.setConfig(next);
    this.config = next;
    this.saveConfig();
    saveRevision(this.dataDir, Number(revision));
    this.log.info(
      `demo: ${componentName} ${method}: ${before} Hz → ${hz} Hz in the cloud config (revision ${revision})`,
    );
    return revision;
  }

  /** The configured frequency of a collector key in the cloud's config (NaN when absent). */
  configuredFrequency(key: string): number {
    const [, componentName, method] = splitKey(key);
    const component = this.config.components?.find((c) => c.name === componentName);
    const dm = component?.service_configs?.find(
      (s) => s.type === "data_manager" || s.type === "rdk:service:data_manager",
    );
    const methods = (dm?.attributes as { capture_methods?: Record<string, unknown>[] } | undefined)
      ?.capture_methods;
    const hz = methods?.find((m) => m.method === method)?.capture_frequency_hz;
    return typeof hz === "number" ? hz : Number.NaN;
  }

  /**
   * Reboot by cutting power at a random moment: the flash's fault injection
   * tears one of the next few program/erase operations (or, if none comes,
   * power goes between operations), then the device boots again from the
   * image as the cut left it.
   */
  async reboot(options: RebootOptions = {}): Promise<void> {
    if (this.rebooting) return this.rebooting;
    const device = this.device;
    if (!device) return;
    this.rebooting = (async () => {
      const plan: PowerCutPlan = {
        afterOperations: options.afterOperations ?? Math.floor(Math.random() * 8),
        tear: options.tear ?? tears[Math.floor(Math.random() * tears.length)]!,
        seed: randomBytes(4).readUInt32LE(0),
      };
      this.log.warn(
        `demo: power cut armed: the flash loses power during operation +${plan.afterOperations} (tear: ${plan.tear})`,
      );
      this.deviceState = "power cut pending";
      const cut = new Promise<void>((resolve) => {
        this.onCut = resolve;
      });
      device.armPowerCut(plan);
      const timeout = sleep(options.maxWaitMs ?? 4000).then(() => "timeout" as const);
      if ((await Promise.race([cut.then(() => "cut" as const), timeout])) === "timeout") {
        device.cutPower("no flash operation came in time");
        await cut;
      }
      this.deviceState = "off (power cut)";
      await sleep(options.offMs ?? 400);
      this.bootDevice();
    })().finally(() => {
      this.rebooting = undefined;
    });
    return this.rebooting;
  }

  private onCut: (() => void) | undefined;
  /** config.img held data at startup: "no cached config" from the first boot then means it is damaged. */
  private configImageHadData = false;

  /** Stop everything cleanly: a last sync round, then the device (RAM flushed, store closed), cloud, database. */
  async stop(): Promise<DemoStatus> {
    if (this.stopped) return this.stopped;
    if (this.rebooting) await this.rebooting.catch(() => {});
    const device = this.device;
    // A last upload round, so what was captured reaches the cloud instead of
    // waiting in flash (where the next boot would discard it: the default reboot rule).
    if (device) {
      // Sampling stops first, so the last round takes every reading captured: nothing is
      // left in RAM or flash for the next boot to discard (the default reboot rule).
      this.log.info(
        this.network.up
          ? "demo: stopping: capture stopped, a last sync round"
          : "demo: stopping: capture stopped; the network is cut, so unsynced readings stay in flash",
      );
      if (this.network.up) {
        const ok = await device.stopCaptureAndSync(5000);
        if (!ok) this.log.warn("demo: the last sync round did not finish; what it missed stays in flash");
      } else await device.stopCaptureAndSync(0);
    }
    const final = device ? await device.shutdown() : undefined;
    this.device = undefined;
    this.deviceState = "stopped";
    // The last boot's final counters (after its last upload, RAM flushed to flash) join the totals.
    const status = this.compose(final ?? undefined);
    this.stopped = status;
    this.wear.save();
    await this.cloud.close();
    releaseLock(this.dataDir);
    return status;
  }

  status(): DemoStatus {
    if (this.stopped) return this.stopped;
    let current: DataManagerStatus | undefined;
    try {
      current = this.device?.status();
    } catch (error) {
      this.log.error(`demo: device status failed: ${(error as Error).message}`);
    }
    return this.compose(current);
  }

  /** The demo's status with `current` as the running boot's counters (undefined while the device is off). */
  private compose(current: DataManagerStatus | undefined): DemoStatus {
    if (current) {
      this.lastStatus = current;
      if (this.deviceState === "booting") this.deviceState = "running";
      if (!this.firstBootSettled && this.boots === 1) {
        this.firstBootSettled = true;
        this.noteCarriedIn(current);
      }
    }
    const collectors = this.mergeCollectors(current);
    const cloudReadings = this.readings.streams().reduce((n, s) => n + s.count, 0);
    const wear = this.wear.summary();
    const flash = current?.flash ?? this.lastStatus?.flash;
    return {
      uptimeMs: Date.now() - this.startedAt,
      boots: this.boots,
      network: this.network.up ? "up" : "down",
      deviceState: this.deviceState,
      cloudUrl: this.cloud.url,
      cloudReadings,
      collectors,
      sync: this.syncStatus(current ?? this.lastStatus),
      flash: {
        sizeBytes: flash?.sizeBytes ?? this.flashBytes ?? 0,
        sectorSize: flash?.sectorSize ?? 4096,
        usedBytes: flash?.usedBytes ?? 0,
        pendingBytes: flash?.pendingBytes ?? 0,
        capacityBytes: flash?.capacityBytes ?? 0,
        ...wear,
      },
      reconciliation: {
        carriedIn: this.carriedIn,
        inFlashAtCuts: this.inFlashAtCut,
      },
      recentLog: this.log.recent(40),
    };
  }

  /** The device's sync status; the last upload is remembered across boots (each boot's own starts empty). */
  private syncStatus(status: DataManagerStatus | undefined): SyncStatus {
    const sync = syncStatusOf(status);
    if (sync.lastSuccessMs > this.lastUploadMs || Number.isNaN(this.lastUploadMs)) {
      if (!Number.isNaN(sync.lastSuccessMs)) this.lastUploadMs = sync.lastSuccessMs;
    }
    return { ...sync, lastSuccessMs: this.lastUploadMs };
  }

  private lastUploadMs = Number.NaN;

  private mergeCollectors(current: DataManagerStatus | undefined): CollectorStatus[] {
    const rows = new Map<string, CollectorStatus>();
    const row = (key: string, componentName: string, method: string): CollectorStatus => {
      const known = rows.get(key);
      if (known) return known;
      const r: CollectorStatus = {
        key,
        componentName,
        method,
        hz: 0,
        disabled: false,
        captured: 0,
        inFlash: 0,
        synced: 0,
        dropped: 0,
        lost: 0,
        pending: 0,
        setAside: 0,
        missed: 0,
      };
      rows.set(key, r);
      return r;
    };
    for (const [key, p] of this.past) {
      const [, name, method] = splitKey(key);
      const r = row(key, name, method);
      r.captured += p.captured;
      r.synced += p.synced;
      r.dropped += p.dropped;
      r.lost += p.lost;
      r.setAside += p.setAside;
      r.missed += p.missed;
    }
    for (const c of current?.collectors ?? []) {
      const r = row(c.key, c.componentName, c.method);
      r.hz = c.frequencyHz;
      r.disabled = c.disabled;
      r.captured += c.captured;
      r.inFlash = c.inFlash;
      r.pending = c.pending;
      r.synced += c.synced;
      r.dropped += c.dropped;
      r.lost += c.lost;
      r.setAside += c.setAside;
      r.missed += c.missedDeadlines;
    }
    // What the first boot discarded was captured by an earlier run: shown apart, not in this run's lost.
    for (const r of rows.values()) r.lost -= this.carriedInByKey.get(r.key) ?? 0;
    if (!current) {
      // Device off: show the configured rates from the cloud's config.
      for (const r of rows.values()) r.hz = this.configuredFrequency(r.key);
    }
    return [...rows.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  private noteCarriedIn(first: DataManagerStatus): void {
    this.carriedIn = first.collectors.reduce((n, c) => n + c.lostAtBoot, 0);
    for (const c of first.collectors) this.carriedInByKey.set(c.key, c.lostAtBoot);
    if (this.carriedIn > 0) {
      this.log.info(
        `demo: earlier runs: ${this.carriedIn} unsynced reading(s) found at boot and discarded (the default reboot rule); not counted in this run's lost`,
      );
    }
  }

  private bootDevice(): void {
    this.boots++;
    this.deviceState = "booting";
    this.firstBootSettled = this.boots > 1;
    this.log.info(`demo: device boot #${this.boots} of this run`);
    this.device = new SimulatedDevice({
      dataDir: this.dataDir,
      credentials: { ...this.credentials, appAddress: this.cloud.url },
      network: this.network,
      log: this.deviceLog(),
      wear: this.wear,
      flashBytes: this.flashBytes,
      onPowerCut: (device) => this.recordPowerCut(device),
    });
  }

  /** The device's logger, which also warns when a config image that held data reads as no cache. */
  private deviceLog(): Logger {
    const log = this.log.child("device");
    const firstBoot = this.boots === 1;
    const configImage = path.join(this.dataDir, "config.img");
    return {
      info: (message) => {
        log.info(message);
        if (firstBoot && this.configImageHadData && message.startsWith("config: no cached config yet")) {
          log.warn(
            `config: ${configImage} held data but no valid cached config: it is damaged, and is replaced by the cloud's config when it arrives (no reading is lost)`,
          );
        }
      },
      warn: (message) => log.warn(message),
      error: (message) => log.error(message),
    };
  }

  private recordPowerCut(device: SimulatedDevice): void {
    const at = device.statusAtCut;
    if (!this.firstBootSettled && this.boots === 1 && at) {
      this.firstBootSettled = true;
      this.noteCarriedIn(at);
    }
    for (const c of at?.collectors ?? []) {
      const p = this.past.get(c.key) ?? {
        captured: 0,
        synced: 0,
        dropped: 0,
        lost: 0,
        setAside: 0,
        missed: 0,
      };
      p.captured += c.captured;
      p.synced += c.synced;
      p.dropped += c.dropped;
      // What RAM held is gone with the power; what flash held is found (and discarded) by the next boot.
      p.lost += c.lost + c.inRam;
      p.setAside += c.setAside;
      p.missed += c.missedDeadlines;
      this.past.set(c.key, p);
      this.inFlashAtCut += c.inFlash;
    }
    if (at) this.lastStatus = at;
    device.releaseFiles();
    this.wear.save();
    this.device = undefined;
    this.onCut?.();
    this.onCut = undefined;
  }

  private saveConfig(): void {
    const file = path.join(this.dataDir, "machine-config.json");
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(this.config, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
  }
}

function syncStatusOf(status: DataManagerStatus | undefined): SyncStatus {
  const sync = status?.sync;
  if (!sync) {
    return {
      state: "off",
      lastError: undefined,
      lastErrorMs: Number.NaN,
      backoffMs: 0,
      lastSuccessMs: Number.NaN,
    };
  }
  const e = sync.lastError;
  return {
    state: sync.state,
    lastError: e ? `${e.reason} (${e.key.split("/").slice(1).join("/")})` : undefined,
    lastErrorMs: e ? e.atWall : Number.NaN,
    backoffMs: sync.backoffMs,
    lastSuccessMs: sync.lastSuccessWall,
  };
}

/** "<api>/<name>/<Method>[/<parameter>]" → its parts. */
export function splitKey(key: string): [string, string, string, string | undefined] {
  const parts = key.split("/");
  return [parts[0] ?? "", parts[1] ?? "", parts[2] ?? "", parts[3]];
}

/**
 * One demo per data dir: two devices on one flash image would corrupt it.
 * The lock holds the owner's pid; a lock left by a process that is gone is taken over.
 */
const lockedHere = new Set<string>();

function takeLock(dataDir: string): void {
  const file = path.join(dataDir, "demo.lock");
  if (lockedHere.has(path.resolve(dataDir)))
    throw new Error(`a demo in this process is already using ${dataDir}`);
  try {
    const owner = Number(fs.readFileSync(file, "utf8"));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      throw new Error(
        `another demo (pid ${owner}) is using ${dataDir}; stop it first, or give this one its own --data-dir`,
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  fs.writeFileSync(file, String(process.pid));
  lockedHere.add(path.resolve(dataDir));
}

function releaseLock(dataDir: string): void {
  const file = path.join(dataDir, "demo.lock");
  lockedHere.delete(path.resolve(dataDir));
  try {
    if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.rmSync(file);
  } catch {
    // Already gone.
  }
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function loadOrCreateCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, "viam.json");
  if (fs.existsSync(file)) {
    const advice =
      "It holds the demo device's part id and secret (the local cloud accepts them); delete it and start again to make new ones: the readings already in the cloud's database stay.";
    const json = readJson(file, advice) as { cloud?: { id?: unknown; secret?: unknown } } | null;
    if (typeof json?.cloud?.id === "string" && typeof json.cloud.secret === "string") {
      return { partId: json.cloud.id, secret: json.cloud.secret };
    }
    throw new StartupError(
      `${file} is damaged: expected {"cloud": {"id": "...", "secret": "..."}}. ${advice}`,
    );
  }
  const credentials = { partId: randomUUID(), secret: randomBytes(18).toString("base64url") };
  fs.writeFileSync(
    file,
    `${JSON.stringify({ cloud: { id: credentials.partId, secret: credentials.secret, app_address: "http://127.0.0.1" } }, null, 2)}\n`,
  );
  return credentials;
}

/** The machine config's revision, kept across runs in config-revision.txt (1 when absent or unreadable). */
function loadRevision(dataDir: string): number {
  try {
    const n = Number(fs.readFileSync(path.join(dataDir, "config-revision.txt"), "utf8").trim());
    return Number.isInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1;
  }
}

function saveRevision(dataDir: string, revision: number): void {
  if (Number.isInteger(revision) && revision >= 1) {
    fs.writeFileSync(path.join(dataDir, "config-revision.txt"), `${revision}\n`);
  }
}

function loadMachineConfig(options: DemoOptions, log: RecentLog): MachineConfigJson {
  const saved = path.join(options.dataDir, "machine-config.json");
  let config: MachineConfigJson;
  if (fs.existsSync(saved)) {
    config = readJson(
      saved,
      "It is the machine config the demo's cloud serves (your frequency changes); fix it, or delete it to start again from examples/machine-config.json.",
    ) as MachineConfigJson;
  } else {
    const source = options.machineConfigPath ?? exampleConfigPaths.find((p) => fs.existsSync(p));
    if (!source)
      throw new StartupError(`no example machine config found (looked for ${exampleConfigPaths.join(", ")})`);
    config = readJson(
      source,
      "It is the example machine config of the checkout; restore it with git checkout.",
    ) as MachineConfigJson;
    log.info(`demo: machine config from ${path.relative(repoRoot, source)}`);
  }
  // The demo polls the cloud config every few seconds so a frequency change shows at once
  // (the firmware's default is a minute). An explicit setting in the file wins.
  const dm = config.services?.find((s) => s.api === "rdk:service:data_manager" || s.type === "data_manager");
  if (dm) {
    dm.attributes ??= {};
    if (dm.attributes.config_poll_interval_mins === undefined) {
      dm.attributes.config_poll_interval_mins = (options.configPollSecs ?? 2) / 60;
    }
  }
  fs.writeFileSync(saved, `${JSON.stringify(config, null, 2)}\n`);
  return config;
}
