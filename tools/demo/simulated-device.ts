/*
 * A capsync device in Node: the firmware's own boot sequence and data plane
 * (modules/app/firmware.ts: credentials → cached config → network → cloud
 * config → capture → sync), given Node ports: a NOR flash image in a file
 * (host/flash-file.ts), a JSON-file NVS, Node timers, the simulated network
 * and the simulated sensor models.
 *
 * Power is modelled honestly: `shutdown()` is a clean stop (sync finishes the
 * request in flight, RAM batches are flushed, the store is closed), while a
 * power cut halts everything at once — mid flash operation when it comes
 * from the flash's fault injection — and the next boot reopens the image as
 * the cut left it.
 */
import * as path from "node:path";
import { FileFlash } from "../../host/flash-file.ts";
import { parseCloudAddress } from "../../modules/app/cloud-address.ts";
import { type Firmware, startFirmware } from "../../modules/app/firmware.ts";
import { SettableWallClock } from "../../modules/app/wall-clock.ts";
import { simulatedModels } from "../../modules/capture/simulated.ts";
import type { DataManagerStatus } from "../../modules/manager/data-manager.ts";
import type { FlashPort, Logger } from "../../modules/ports.ts";
import { PowerCutError, type TearMode } from "../../modules/storage/nor-image.ts";
import { JsonFileKeyValueStore, NodeTimers } from "./node-ports.ts";
import type { DeviceRadio, SimulatedNetwork } from "./simulated-network.ts";
import type { WearCounter } from "./wear.ts";

export interface DeviceCredentials {
  partId: string;
  secret: string;
  /** The local cloud's address as viam.json writes it, e.g. "http://127.0.0.1:8080". */
  appAddress: string;
}

export interface DeviceOptions {
  dataDir: string;
  credentials: DeviceCredentials;
  network: SimulatedNetwork;
  log: Logger;
  wear: WearCounter;
  /** Capture partition size (default 1 MiB, a typical ESP32 data partition). */
  flashBytes?: number;
  /** Called once when this boot loses power (from inside the flash operation that was torn, or from `cutPower`). */
  onPowerCut?: (device: SimulatedDevice, cause: string) => void;
}

export const DEFAULT_FLASH_BYTES = 1024 * 1024;
export const CONFIG_FLASH_BYTES = 2 * 4096;

export interface PowerCutPlan {
  /** Mutating flash operations to let through before the torn one. */
  afterOperations: number;
  tear: TearMode;
  seed: number;
}

export class SimulatedDevice {
  readonly flash: FileFlash;
  readonly configFlash: FileFlash;
  readonly firmware: Firmware;
  readonly clock: SettableWallClock;
  private readonly timers = new NodeTimers();
  private readonly radio: DeviceRadio;
  private readonly log: Logger;
  private readonly onPowerCut: DeviceOptions["onPowerCut"];
  private off = false;
  /** Status taken at the instant power was cut (what RAM held is lost; flash keeps the rest). */
  statusAtCut: DataManagerStatus | undefined;

  constructor(options: DeviceOptions) {
    this.log = options.log;
    this.onPowerCut = options.onPowerCut;
    this.flash = new FileFlash({
      path: path.join(options.dataDir, "flash.img"),
      size: options.flashBytes ?? DEFAULT_FLASH_BYTES,
    });
    this.configFlash = new FileFlash({
      path: path.join(options.dataDir, "config.img"),
      size: CONFIG_FLASH_BYTES,
    });
    if (this.flash.created)
      options.log.info(`new blank flash image ${path.join(options.dataDir, "flash.img")}`);
    const monotonicOrigin = performance.now();
    this.clock = new SettableWallClock(() => performance.now() - monotonicOrigin);
    // A computer's clock is right from the start (the ESP32 waits for SNTP or the cloud's Date header).
    this.clock.set(Date.now(), "host clock");
    this.radio = options.network.radio();
    const { credentials } = options;
    parseCloudAddress(credentials.appAddress); // a bad address fails here, with its own message
    this.firmware = startFirmware({
      kv: new JsonFileKeyValueStore(path.join(options.dataDir, "nvs.json")),
      clock: this.clock,
      timers: this.timers,
      log: options.log,
      flash: options.wear.wrap(this.guard(this.flash)),
      configFlash: this.guard(this.configFlash),
      registry: simulatedModels(),
      openLink: () => this.radio.link(),
      openStream: (address) => this.radio.streams(address),
      // Provisioning as a real build does it: mc/config values copied into NVS when they differ.
      buildConfig: {
        partId: credentials.partId,
        secret: credentials.secret,
        appAddress: credentials.appAddress,
        ssid: "capsync-demo",
      },
    });
  }

  get poweredOff(): boolean {
    return this.off;
  }

  status(): DataManagerStatus | undefined {
    if (this.off) return undefined;
    return this.firmware.manager()?.status();
  }

  /** "Sync now": a round right away, even during a backoff. Resolves when the round ends. */
  async syncNow(): Promise<boolean> {
    const manager = this.firmware.manager();
    if (!manager || this.off) return false;
    const result = await manager.syncNow();
    return result.ok;
  }

  /**
   * The first half of a clean stop: sampling stops, then RAM batches go to
   * flash and a sync round uploads what it can (given `timeoutMs`), so the
   * stop leaves nothing unsynced that the next boot would discard as lost.
   * Resolves true when that round succeeded.
   */
  async stopCaptureAndSync(timeoutMs: number): Promise<boolean> {
    const manager = this.firmware.manager();
    if (!manager || this.off) return false;
    manager.capture.pause();
    const round = manager.syncNow().then(
      (r) => r.ok,
      () => false,
    );
    return Promise.race([
      round,
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
    ]);
  }

  /** Arm the flash to lose power during a later mutating operation (a program or an erase, torn per `tear`). */
  armPowerCut(plan: PowerCutPlan): void {
    this.flash.armPowerCut({
      atOperation: this.flash.operations + plan.afterOperations,
      tear: plan.tear,
      seed: plan.seed,
    });
  }

  /** Cut power now, between flash operations. */
  cutPower(cause = "power cut"): void {
    this.powerDown(cause);
  }

  /**
   * Clean stop: sync's request in flight finishes, RAM batches go to flash,
   * the store and the files close. Returns the final counters (the manager's
   * status after close: the last batches counted in flash).
   */
  async shutdown(): Promise<DataManagerStatus | undefined> {
    if (this.off) return undefined;
    const manager = this.firmware.manager();
    let final: DataManagerStatus | undefined;
    try {
      if (manager) {
        await manager.close();
        final = manager.status();
      }
      this.firmware.close();
    } catch (error) {
      this.log.error(`shutdown: ${(error as Error).message}`);
    }
    this.off = true;
    this.timers.halt();
    this.radio.powerOff();
    this.flash.close();
    this.configFlash.close();
    return final;
  }

  /**
   * A flash port that notices the power cut the flash's fault injection
   * causes, and brings the rest of the device down at that very instant.
   */
  private guard(flash: FlashPort): FlashPort {
    const fail = (error: unknown): never => {
      if (error instanceof PowerCutError && !this.off) this.powerDown(error.message);
      throw error;
    };
    return {
      size: flash.size,
      sectorSize: flash.sectorSize,
      read: (offset, target) => {
        try {
          flash.read(offset, target);
        } catch (error) {
          fail(error);
        }
      },
      write: (offset, data) => {
        try {
          flash.write(offset, data);
        } catch (error) {
          fail(error);
        }
      },
      eraseSector: (index) => {
        try {
          flash.eraseSector(index);
        } catch (error) {
          fail(error);
        }
      },
    };
  }

  private powerDown(cause: string): void {
    if (this.off) return;
    const torn = this.flash.poweredOff;
    // From this instant nothing new starts: no timer fires, no byte leaves, every flash operation fails.
    this.off = true;
    this.timers.halt();
    this.radio.powerOff();
    if (!torn) this.flash.armPowerCut({ atOperation: this.flash.operations, tear: "none" });
    this.configFlash.armPowerCut({ atOperation: this.configFlash.operations, tear: "none" });
    this.log.warn(`POWER CUT (${torn ? cause : "between flash operations"})`);
    // The counters live in RAM, which is what is being lost: read them once the
    // failing operation has unwound (capture counts the batch the store refused).
    // The census of what is in flash needs the chip, so power it for that read
    // only, then off again for good.
    setImmediate(() => {
      this.flash.reboot();
      try {
        this.statusAtCut = this.firmware.manager()?.status();
      } catch (error) {
        this.log.error(`counters at the power cut could not be read: ${(error as Error).message}`);
      }
      this.flash.armPowerCut({ atOperation: this.flash.operations, tear: "none" });
      this.onPowerCut?.(this, cause);
    });
  }

  /** After a power cut: release the image files so the next boot can reopen them. */
  releaseFiles(): void {
    this.flash.close();
    this.configFlash.close();
  }
}
