/*
 * The firmware assembled from the core: the boot sequence wired to the real
 * config validator (modules/config), cloud client (modules/rpc) over the
 * keep-alive HTTP/1.1 transport, and data manager (store + capture + sync).
 * A platform (ESP32, the Linux simulator, a Node test) supplies only ports.
 */

import type { ModelRegistry } from "../capture/registry";
import { parseMachineConfig } from "../config/machine-config";
import { type CaptureSettings, describeIssue } from "../config/settings";
import { DataManager } from "../manager/data-manager";
import type { FlashPort, KeyValueStore, Logger, Timers } from "../ports";
import type { BatteryHooks } from "../power/battery-hooks";
import { CloudClient } from "../rpc/cloud-client";
import { Code, RpcError } from "../rpc/status";
import { Boot } from "./boot";
import type { CloudAddress } from "./cloud-address";
import { type ConfigCache, FlashConfigCache } from "./config-cache";
import type { CloudConfigSource, ConfigInterpretation, DataPlane, TimeSync } from "./contracts";
import type { Credentials, WifiSettings } from "./credentials";
import { DateHeaderClockTransport } from "./date-header-clock";
import { Http1Transport, type OpenByteStream } from "./http1-transport";
import type { NetworkLink } from "./network-supervisor";
import type { SettableWallClock } from "./wall-clock";

export interface PlatformPorts {
  kv: KeyValueStore;
  clock: SettableWallClock;
  timers: Timers;
  log: Logger;
  /** The capture partition. */
  flash: FlashPort;
  /** The config partition (two slots), or null where the platform has none. */
  configFlash: FlashPort | null;
  registry: ModelRegistry;
  openLink: (wifi: WifiSettings | undefined) => NetworkLink | null;
  /** A byte stream factory to the cloud (TLS when `address.secure`). */
  openStream: (address: CloudAddress) => OpenByteStream;
  timeSync?: TimeSync;
  /** See BootOptions.cloudNeedsClock. */
  cloudNeedsClock?: boolean;
  /** `mc/config` values for build-time provisioning. */
  buildConfig?: Record<string, unknown>;
  /** Battery mode's hooks into the data manager (modules/power/powered-firmware.ts). */
  battery?: BatteryHooks;
}

export interface Firmware {
  boot: Boot<CaptureSettings>;
  /** The data manager once the first config ran (undefined before). */
  manager(): DataManager | undefined;
  /** The cloud client (undefined without credentials). */
  cloud(): CloudClient | undefined;
  /** The cloud connection's counters (TLS failures included), or undefined without a cloud. */
  connection(): Http1Transport | undefined;
  close(): void;
}

/** Validation as boot needs it: per-entry errors skip the entry; a config with nothing valid left is unusable. */
export function interpretMachineConfig(config: unknown): ConfigInterpretation<CaptureSettings> {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return { settings: null, errors: ["the config is not an object"] };
  }
  const settings = parseMachineConfig(config);
  const errors = settings.issues.filter((i) => i.severity === "error").map(describeIssue);
  // Nothing valid left but errors reported: running it would stop all capture over a typo.
  // (A config with no capture methods and no errors is a deliberate "capture nothing" and runs.)
  if (settings.collectors.length === 0 && errors.length > 0) return { settings: null, errors };
  return { settings, errors };
}

/** Sync without credentials: every upload fails clearly; capture keeps filling the rings. */
const noCloudSender = {
  send(): Promise<void> {
    return Promise.reject(new RpcError(Code.UNAUTHENTICATED, "no cloud credentials are provisioned"));
  },
};

export function startFirmware(ports: PlatformPorts): Firmware {
  let manager: DataManager | undefined;
  let client: CloudClient | undefined;
  let transport: Http1Transport | undefined;
  const log = ports.log;
  const configCache: ConfigCache | null = ports.configFlash ? openConfigCache(ports.configFlash, log) : null;

  const openCloud = (credentials: Credentials): CloudConfigSource => {
    transport = new Http1Transport({
      open: ports.openStream(credentials.cloud),
      host: credentials.cloud.host,
      timers: ports.timers,
    });
    client = new CloudClient({
      transport: new DateHeaderClockTransport(transport, ports.clock, log),
      partId: credentials.partId,
      secret: credentials.secret,
      logger: log,
    });
    const cloud = client;
    return {
      async fetchConfig() {
        const config = await cloud.config();
        return { revision: config.revision, config };
      },
    };
  };

  // The data manager starts with the first config (cached or fetched): before
  // that there is nothing to capture.
  const openData = (cloud: CloudConfigSource | null): DataPlane<CaptureSettings> => ({
    apply(settings) {
      for (const issue of settings.issues) {
        if (issue.severity === "warning") log.warn(describeIssue(issue));
      }
      const run = ports.battery?.managerSettings(settings) ?? settings;
      if (!manager) {
        manager = new DataManager({
          ...ports.battery?.managerOptions(),
          flash: ports.flash,
          clock: ports.clock,
          timers: ports.timers,
          kv: ports.kv,
          log,
          registry: ports.registry,
          partId: client?.partId ?? "",
          sender: cloud && client ? client : noCloudSender,
          settings: run,
        });
        log.info(
          `capture: started with ${settings.collectors.length} collector(s); sync every ${settings.dataManager.syncIntervalMins} min${settings.dataManager.syncDisabled ? " (disabled)" : ""}`,
        );
      } else {
        manager.apply(run);
      }
    },
    syncNow() {
      manager?.syncNow().catch(() => {
        // A failed round is already logged and backed off by the sync service.
      });
    },
    close() {
      manager?.close();
      transport?.close();
    },
  });

  const boot = new Boot<CaptureSettings>({
    kv: ports.kv,
    clock: ports.clock,
    timers: ports.timers,
    log,
    buildConfig: ports.buildConfig,
    openLink: ports.openLink,
    openCloud,
    openData,
    interpret: interpretMachineConfig,
    pollIntervalOf: (settings) => settings.dataManager.configPollIntervalMins * 60_000,
    configCache,
    timeSync: ports.timeSync,
    cloudNeedsClock: ports.cloudNeedsClock,
  });
  boot.start();
  return {
    boot,
    manager: () => manager,
    cloud: () => client,
    connection: () => transport,
    close: () => boot.close(),
  };
}

function openConfigCache(flash: FlashPort, log: Logger): ConfigCache | null {
  try {
    return new FlashConfigCache(flash);
  } catch (error) {
    log.error(`config: no cache (${(error as Error).message})`);
    return null;
  }
}
