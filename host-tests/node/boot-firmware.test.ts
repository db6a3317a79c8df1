// The whole firmware (modules/app/firmware.ts: boot sequence, config
// validation, CloudClient over the keep-alive HTTP/1.1 transport, data
// manager with capture and sync) on Node ports, against the real local cloud
// over loopback. Node's TCP socket stands in for Moddable's Socket.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { FlashConfigCache } from "../../modules/app/config-cache";
import { type Firmware, startFirmware } from "../../modules/app/firmware";
import type { LinkEvent, NetworkLink } from "../../modules/app/network-supervisor";
import { SettableWallClock } from "../../modules/app/wall-clock";
import { simulatedModels } from "../../modules/capture/simulated";
import type { Logger } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { type Cloud, type MachineConfigJson, startCloud } from "../../tools/cloud/index";
import { NodeTimers } from "../../tools/demo/node-ports";
import { MemoryKv } from "../core/boot-fixtures";
import { nodeStream } from "../support/node-stream";

const PART = "5e1f0c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b";
const SECRET = "node-secret";

function machineConfig(imuHz: number, imuModel = "rdk:builtin:fake"): MachineConfigJson {
  return {
    components: [
      {
        name: "env",
        api: "rdk:component:sensor",
        model: "rdk:builtin:fake",
        attributes: {},
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 20 }] },
          },
        ],
      },
      {
        name: "imu",
        api: "rdk:component:movement_sensor",
        model: imuModel,
        attributes: {},
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "AngularVelocity", capture_frequency_hz: imuHz }] },
          },
        ],
      },
    ],
    services: [
      {
        name: "data_manager-1",
        api: "rdk:service:data_manager",
        model: "rdk:builtin:builtin",
        attributes: { sync_interval_mins: 0.005, flush_interval_secs: 0.2, config_poll_interval_mins: 0.005 },
      },
    ],
  } as MachineConfigJson;
}

class Lines implements Logger {
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
  has(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(l));
  }
}

class SwitchLink implements NetworkLink {
  listener: ((e: LinkEvent) => void) | undefined;
  start(listener: (e: LinkEvent) => void): void {
    this.listener = listener;
    listener("up");
  }
  retry(): void {}
  close(): void {}
  set(up: boolean): void {
    this.listener?.(up ? "up" : "down");
  }
}

interface Device {
  firmware: Firmware;
  log: Lines;
  timers: NodeTimers;
  link: SwitchLink;
}

function boot(
  cloud: Cloud,
  options: { kv?: MemoryKv; flash?: NorImage; configFlash?: NorImage } = {},
): Device {
  const kv = options.kv ?? new MemoryKv();
  if (!options.kv) {
    kv.set("part_id", PART);
    kv.set("part_secret", SECRET);
    kv.set("app_address", cloud.url);
  }
  const log = new Lines();
  const timers = new NodeTimers();
  const link = new SwitchLink();
  const clock = new SettableWallClock(() => performance.now());
  clock.set(Date.now(), "host clock");
  const firmware = startFirmware({
    kv,
    clock,
    timers,
    log,
    flash: options.flash ?? new NorImage({ size: 64 * 4096 }),
    configFlash: options.configFlash ?? new NorImage({ size: 4 * 4096 }),
    registry: simulatedModels(),
    openLink: () => link,
    openStream: () => nodeStream(cloud.port),
  });
  const device = { firmware, log, timers, link };
  running.add(device);
  return device;
}

/** Devices not yet shut down: a failed assertion must not leave timers and sockets that keep the file alive. */
const running = new Set<Device>();

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function shutdown(device: Device): Promise<void> {
  running.delete(device);
  const manager = device.firmware.manager();
  device.firmware.boot.close();
  await manager?.close();
}

function collector(device: Device, component: string) {
  const status = device.firmware.manager()!.status();
  return status.collectors.find((c) => c.componentName === component)!;
}

const clouds: Cloud[] = [];
after(async () => {
  for (const device of [...running]) await shutdown(device);
  for (const c of clouds) await c.close();
});

async function cloudWith(config: MachineConfigJson): Promise<Cloud> {
  const cloud = await startCloud({ port: 0, parts: [{ id: PART, secret: SECRET }], machineConfig: config });
  clouds.push(cloud);
  return cloud;
}

test("offline boot captures from the cached config; the backlog reaches the cloud when it is reachable", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const configFlash = new NorImage({ size: 4 * 4096 });
  new FlashConfigCache(configFlash).save(
    JSON.stringify({ revision: "1", config: cloud.config(PART).config }),
  );
  await cloud.refuse();
  const device = boot(cloud, { configFlash });
  assert.ok(device.log.has(/capturing from the cached config \(revision "1"\) before any network/));
  await waitFor(
    "offline capture",
    () => (device.firmware.manager()?.status().collectors[0]?.captured ?? 0) > 20,
  );
  await waitFor("a failed fetch", () => device.log.has(/config: fetch failed/));
  assert.equal(cloud.count(), 0);
  await cloud.accept();
  device.link.set(false);
  device.link.set(true); // the network returns: fetch and sync at once
  await waitFor(
    "readings in the cloud",
    () => cloud.count({ componentName: "imu" }) > 20 && cloud.count({ componentName: "env" }) > 5,
  );
  await shutdown(device);
});

test("a cloud config arriving later reconfigures without reboot and without loss", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const configFlash = new NorImage({ size: 4 * 4096 });
  new FlashConfigCache(configFlash).save(JSON.stringify({ revision: "0", config: machineConfig(10) }));
  const device = boot(cloud, { configFlash });
  const manager = () => device.firmware.manager()!;
  assert.equal(collector(device, "imu").frequencyHz, 10);
  await waitFor("the cloud's config", () => collector(device, "imu").frequencyHz === 50);
  assert.ok(device.log.has(/applied revision "1" \(was "0"\) without a reboot/));
  await new Promise((r) => setTimeout(r, 1000));
  const revision = cloud.setConfig(machineConfig(100));
  await waitFor("the changed config", () => collector(device, "imu").frequencyHz === 100);
  assert.ok(device.log.has(new RegExp(`applied revision "${revision}"`)));
  await new Promise((r) => setTimeout(r, 500));
  // Stop capture through the config too, so the totals can settle.
  const stopped = machineConfig(100);
  (stopped.services![0]!.attributes as Record<string, unknown>).capture_disabled = true;
  cloud.setConfig(stopped);
  await waitFor("capture disabled", () => manager().status().captureDisabled);
  await manager().syncNow();
  await waitFor(
    "everything flushed and synced",
    () => {
      const imu = collector(device, "imu");
      return imu.pending === 0 && cloud.count({ componentName: "imu" }) === imu.synced;
    },
    15_000,
  );
  const imu = collector(device, "imu");
  // Real time passes here (about 1.5 s at 50-100 Hz): a margin a loaded machine cannot miss.
  assert.ok(imu.captured > 10, `captured ${imu.captured}`);
  assert.equal(imu.dropped, 0);
  assert.equal(imu.lost, 0);
  // Captured across three configs = synced + still pending (nothing lost at either reconfigure).
  assert.equal(imu.captured, imu.synced + imu.pending);
  // Auth, config polls and every upload rode one kept-alive connection.
  assert.ok(cloud.stats.uploads > 5, `uploads ${cloud.stats.uploads}`);
  assert.equal(
    cloud.stats.connections,
    1,
    `${cloud.stats.connections} connections for ${cloud.stats.uploads} uploads`,
  );
  await shutdown(device);
});

test("a bad cloud config keeps the last good one running, with the error logged", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const configFlash = new NorImage({ size: 4 * 4096 });
  const device = boot(cloud, { configFlash });
  await waitFor(
    "the first config",
    () => device.firmware.manager() !== undefined && collector(device, "imu").frequencyHz === 50,
  );
  // Every capture method of the new config is invalid: nothing valid would be left.
  const bad = JSON.parse(
    JSON.stringify(machineConfig(-5)).replace('"capture_frequency_hz":20', '"capture_frequency_hz":"often"'),
  );
  const badRevision = cloud.setConfig(bad);
  await waitFor("the rejection", () =>
    device.log.has(new RegExp(`revision "${badRevision}" from cloud rejected`)),
  );
  assert.ok(device.log.has(/keeping the last good config \(revision "1"\)/));
  const before = collector(device, "imu").captured;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(collector(device, "imu").frequencyHz, 50);
  assert.ok(collector(device, "imu").captured > before, "still capturing");
  assert.match(
    new FlashConfigCache(configFlash).load() ?? "",
    /"revision":"1"/,
    "the bad config is not cached",
  );
  await shutdown(device);
});

test("wrong credentials: a clear error, capture continues from the cache, nothing reaches the cloud", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const configFlash = new NorImage({ size: 4 * 4096 });
  new FlashConfigCache(configFlash).save(JSON.stringify({ revision: "1", config: machineConfig(20) }));
  const kv = new MemoryKv();
  kv.set("part_id", PART);
  kv.set("part_secret", "wrong");
  kv.set("app_address", cloud.url);
  const device = boot(cloud, { kv, configFlash });
  await waitFor("the credential error", () => device.log.has(/the cloud refused the credentials/));
  await waitFor("capture", () => collector(device, "imu").captured > 10);
  assert.equal(cloud.count(), 0);
  assert.ok(cloud.stats.authFailures > 0);
  assert.ok(!device.log.lines.some((l) => l.includes("wrong")), "the secret never reaches the log");
  await shutdown(device);
});

test("missing credentials: a clear error naming the keys, capture continues", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const configFlash = new NorImage({ size: 4 * 4096 });
  new FlashConfigCache(configFlash).save(JSON.stringify({ revision: "1", config: machineConfig(20) }));
  const kv = new MemoryKv();
  const device = boot(cloud, { kv, configFlash });
  assert.ok(
    device.log.has(
      /no usable cloud credentials \("part_id" is not set; "part_secret" is not set; "app_address" is not set\)/,
    ),
  );
  await waitFor("capture", () => collector(device, "imu").captured > 10);
  assert.equal(cloud.stats.authentications + cloud.stats.authFailures, 0);
  await shutdown(device);
});

test("WiFi flapping never stops capture, and every reading arrives once", async () => {
  const cloud = await cloudWith(machineConfig(50));
  const device = boot(cloud);
  await waitFor("the first config", () => device.firmware.manager() !== undefined);
  const samples: number[] = [];
  for (let i = 0; i < 12; i++) {
    const up = i % 2 === 1;
    if (!up) await cloud.refuse();
    else await cloud.accept();
    device.link.set(up);
    await new Promise((r) => setTimeout(r, 250));
    samples.push(collector(device, "imu").captured);
  }
  for (let i = 1; i < samples.length; i++)
    assert.ok(samples[i]! > samples[i - 1]!, `capture advanced in window ${i}: ${samples}`);
  await cloud.accept();
  device.link.set(true);
  await device.firmware
    .manager()!
    .syncNow()
    .catch(() => {});
  await waitFor(
    "the backlog synced",
    () => {
      const imu = collector(device, "imu");
      return imu.inFlash === 0 && cloud.count({ componentName: "imu" }) === imu.synced && imu.synced > 0;
    },
    20_000,
  );
  const imu = collector(device, "imu");
  assert.equal(imu.dropped + imu.lost, 0);
  assert.equal(imu.captured, imu.synced + imu.pending);
  await shutdown(device);
});

test("a bad config entry is logged once (by whoever read the config), and its neighbours run", async () => {
  const config = machineConfig(50);
  const env = config.components![0]!;
  (env.service_configs![0]!.attributes as { capture_methods: unknown[] }).capture_methods.push({
    method: "Readings",
    capture_frequency_hz: -1,
  });
  config.components!.push({
    name: "ghost",
    api: "rdk:component:sensor",
    model: "no:such:model",
    attributes: {},
    service_configs: [
      {
        type: "data_manager",
        attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
      },
    ],
  } as NonNullable<MachineConfigJson["components"]>[number]);
  const cloud = await cloudWith(config);
  const device = boot(cloud);
  await waitFor("the cloud's config", () => device.firmware.manager() !== undefined);
  await waitFor("imu running", () => collector(device, "imu").frequencyHz === 50);
  await new Promise((r) => setTimeout(r, 300)); // a few config polls: an unchanged config logs nothing new
  // A parse-time issue (the negative rate) and an apply-time issue (the unknown model): one line each.
  const negative = device.log.lines.filter((l) => /capture_frequency_hz .*got -1/.test(l));
  const ghost = device.log.lines.filter((l) => /ghost/.test(l) && /no:such:model/.test(l));
  assert.equal(negative.length, 1, negative.join("\n"));
  assert.equal(ghost.length, 1, ghost.join("\n"));
  await shutdown(device);
});
