/*
 * The boot sequence main.ts runs on every platform:
 *
 *   1. provisioning (build-time values into NVS), credentials and WiFi settings from NVS
 *   2. open the store, capture and sync (the data plane)
 *   3. capture at once from the cached last good config, even offline
 *   4. network in the background: reconnect with backoff, never blocking
 *   5. on each "network up": set the clock (SNTP) if needed, fetch the cloud's
 *      config, validate, cache, reconfigure without reboot; poll for changes
 *   6. sync runs inside the data plane from the first config on; a returning
 *      network triggers an immediate sync instead of waiting out a backoff
 *
 * Nothing here waits for anything: each step that cannot proceed says why in
 * the log and the rest carry on. Missing or wrong credentials give one clear
 * error and the device keeps capturing into flash.
 */
import type { KeyValueStore, Logger, TimerId, Timers } from "../ports";
import { formatCloudAddress } from "./cloud-address";
import { insecureHttpAllowed, judgeCloudAddress } from "./cloud-policy";
import type { ConfigCache } from "./config-cache";
import { ConfigFollower, type ConfigOrigin } from "./config-follower";
import type { CloudConfigSource, DataPlane, InterpretConfig, TimeSync } from "./contracts";
import {
  type Credentials,
  loadCredentials,
  loadWifiSettings,
  provisionFromBuildConfig,
  type WifiSettings,
} from "./credentials";
import { type NetworkLink, type NetworkState, NetworkSupervisor } from "./network-supervisor";
import { RetryDelay } from "./retry-delay";
import type { SettableWallClock } from "./wall-clock";

export interface BootOptions<S> {
  kv: KeyValueStore;
  clock: SettableWallClock;
  timers: Timers;
  log: Logger;
  /** Values from `mc/config` copied into NVS when they differ (build-time provisioning). */
  buildConfig?: Record<string, unknown>;
  /** The network interface for these WiFi settings (undefined when none are stored), or null: stay offline. */
  openLink: (wifi: WifiSettings | undefined) => NetworkLink | null;
  /** The cloud client for these credentials (no I/O yet). */
  openCloud: (credentials: Credentials) => CloudConfigSource;
  /** Store + capture + sync; `cloud` is null when there are no usable credentials (capture only). */
  openData: (cloud: CloudConfigSource | null) => DataPlane<S>;
  interpret: InterpretConfig<S>;
  configCache: ConfigCache | null;
  /** SNTP or equivalent; omitted where the wall clock is right from the start. */
  timeSync?: TimeSync;
  /**
   * True when cloud calls need a valid wall clock first (TLS certificate
   * validity dates on the device). Then the config fetch waits for the clock.
   */
  cloudNeedsClock?: boolean;
  configPollMs?: number;
  /** The config's own poll interval, when its settings carry one (capsync's `config_poll_interval_mins`). */
  pollIntervalOf?: (settings: S) => number | undefined;
  configRetryFirstMs?: number;
  networkAttemptTimeoutMs?: number;
  networkRetryFirstMs?: number;
  networkRetryCapMs?: number;
  random?: () => number;
}

export interface BootStatus {
  credentials: "ok" | "missing";
  credentialProblems: string[];
  network: NetworkState | "offline";
  clock: string;
  config: { origin: ConfigOrigin; revision: string; applied: number; rejected: number; lastError: string };
}

export class Boot<S> {
  private readonly options: BootOptions<S>;
  private readonly log: Logger;
  private follower: ConfigFollower<S> | undefined;
  private supervisor: NetworkSupervisor | undefined;
  private cloud: CloudConfigSource | null = null;
  private timeSyncRunning = false;
  private timeSyncTimer: TimerId | undefined;
  private timeSyncDelay: RetryDelay | undefined;
  private credentialProblems: string[] = [];
  private closed = false;
  /** The data plane, once opened. */
  data: DataPlane<S> | undefined;

  constructor(options: BootOptions<S>) {
    this.options = options;
    this.log = options.log;
  }

  start(): void {
    const { options, log } = this;
    log.info("boot: capsync starting");

    // 1. Credentials and WiFi settings.
    if (options.buildConfig) {
      try {
        const written = provisionFromBuildConfig(options.kv, options.buildConfig);
        if (written.length > 0)
          log.info(`boot: provisioned ${written.join(", ")} from the build configuration into NVS`);
      } catch (error) {
        log.error(`boot: provisioning from the build configuration failed: ${(error as Error).message}`);
      }
    }
    const credentials = loadCredentials(options.kv);
    const verdict = credentials.ok
      ? judgeCloudAddress(credentials.credentials.cloud, insecureHttpAllowed(options.buildConfig))
      : {};
    if (verdict.warning) log.warn(verdict.warning);
    if (credentials.ok && verdict.refused) {
      this.credentialProblems = [verdict.refused];
      log.error(`boot: ${verdict.refused}. Capture continues into flash; nothing is synced.`);
    } else if (credentials.ok) {
      log.info(
        `boot: credentials for part ${credentials.credentials.partId}, cloud ${formatCloudAddress(credentials.credentials.cloud)}`,
      );
      try {
        this.cloud = options.openCloud(credentials.credentials);
      } catch (error) {
        log.error(
          `boot: the cloud client could not be created (${(error as Error).message}); capturing without cloud`,
        );
      }
    } else {
      this.credentialProblems = credentials.problems;
      log.error(
        `boot: no usable cloud credentials (${credentials.problems.join("; ")}). Capture continues into flash; ` +
          "nothing is synced until part_id, part_secret and app_address are provisioned (see docs/esp32.md, 'Provisioning').",
      );
    }

    // 2. Store, capture, sync.
    try {
      this.data = options.openData(this.cloud);
      log.info(`boot: store opened; capture ${this.cloud ? "and sync" : "only (no cloud)"} ready`);
    } catch (error) {
      log.error(`boot: the store could not be opened: ${(error as Error).message}; nothing can be captured`);
      return;
    }
    const data = this.data;

    // 3. Capture from the cached config.
    this.follower = new ConfigFollower<S>({
      interpret: options.interpret,
      apply: (settings) => {
        data.apply(settings);
        const pollMs = options.pollIntervalOf?.(settings);
        if (pollMs !== undefined) this.follower?.setPollMs(pollMs);
      },
      cache: options.configCache,
      timers: options.timers,
      log,
      pollMs: options.configPollMs,
      retryFirstMs: options.configRetryFirstMs,
      random: options.random,
    });
    this.follower.startFromCache();
    this.follower.setSource(this.cloud);

    // 4. Network in the background.
    let wifi: WifiSettings | undefined;
    try {
      wifi = loadWifiSettings(options.kv);
    } catch (error) {
      log.error(`boot: WiFi settings unreadable: ${(error as Error).message}`);
    }
    const link = options.openLink(wifi);
    if (!link) {
      log.warn("network: no WiFi settings (wifi_ssid); staying offline and capturing into flash");
      return;
    }
    this.supervisor = new NetworkSupervisor({
      link,
      timers: options.timers,
      log,
      attemptTimeoutMs: options.networkAttemptTimeoutMs,
      retryFirstMs: options.networkRetryFirstMs,
      retryCapMs: options.networkRetryCapMs,
      random: options.random,
    });
    this.supervisor.onChange((up) => this.onNetwork(up));
    log.info(wifi ? `network: connecting to WiFi "${wifi.ssid}" in the background` : "network: starting");
    this.supervisor.start();
  }

  status(): BootStatus {
    const f = this.follower;
    return {
      credentials: this.cloud ? "ok" : "missing",
      credentialProblems: this.credentialProblems,
      network: this.supervisor ? this.supervisor.state : "offline",
      clock: this.options.clock.valid ? this.options.clock.source : "not set",
      config: {
        origin: f?.origin ?? "none",
        revision: f?.revision ?? "",
        applied: f?.applied ?? 0,
        rejected: f?.rejected ?? 0,
        lastError: f?.lastError ?? "",
      },
    };
  }

  close(): void {
    this.closed = true;
    if (this.timeSyncTimer !== undefined) this.options.timers.clear(this.timeSyncTimer);
    this.timeSyncTimer = undefined;
    this.follower?.close();
    this.supervisor?.close();
    this.options.timeSync?.close();
    try {
      this.data?.close();
    } catch (error) {
      this.log.error(`boot: closing the data plane failed: ${(error as Error).message}`);
    }
  }

  /**
   * SNTP, retried while the network stays up (5 s doubling to 5 min): on the
   * device nothing reaches the cloud until the clock is set, so a single lost
   * answer must not wait for the next WiFi reconnect.
   */
  private askTime(timeSync: TimeSync): void {
    const { clock, cloudNeedsClock, timers } = this.options;
    this.timeSyncRunning = true;
    this.log.info("clock: asking SNTP for the time");
    timeSync.start((epochMs, detail) => {
      this.timeSyncRunning = false;
      if (clock.set(epochMs, "SNTP")) {
        this.timeSyncDelay?.reset();
        this.log.info(`clock: set by SNTP (${detail})`);
        // What waited for the clock (the TLS config fetch) can go now.
        if (cloudNeedsClock && this.supervisor?.up) this.onNetwork(true);
        return;
      }
      this.timeSyncDelay ??= new RetryDelay(5000, 300_000, 0.2, this.options.random);
      const wait = this.timeSyncDelay.next();
      this.log.warn(`clock: SNTP gave no time (${detail}); asking again in ${wait} ms`);
      this.timeSyncTimer = timers.set(() => {
        this.timeSyncTimer = undefined;
        if (!clock.valid && this.supervisor?.up && !this.closed) this.askTime(timeSync);
      }, wait);
    });
  }

  private onNetwork(up: boolean): void {
    const { clock, timeSync, cloudNeedsClock } = this.options;
    if (!up) {
      this.follower?.setOnline(false);
      return;
    }
    // 5. Clock, then config.
    if (!clock.valid && timeSync && !this.timeSyncRunning && this.timeSyncTimer === undefined) {
      this.askTime(timeSync);
    }
    if (cloudNeedsClock && !clock.valid) {
      this.log.info(
        "config: waiting for the clock before contacting the cloud (TLS checks certificate dates)",
      );
      return;
    }
    if (!this.cloud) return;
    this.follower?.setOnline(true);
    // 6. Sync: whatever waited for the network goes now.
    this.data?.syncNow?.();
  }
}
