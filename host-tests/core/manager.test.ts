// The DataManager in both lanes (Node and the XS engine): real store on the
// NOR emulation, real capture with simulated sensors, sync to an in-process
// sender that decodes each request. The Node tests do the same against the
// real local cloud over HTTP.
import { simulatedModels } from "../../modules/capture/simulated";
import { parseMachineConfig } from "../../modules/config/machine-config";
import type { CaptureSettings } from "../../modules/config/settings";
import { DataManager } from "../../modules/manager/data-manager";
import { silentLogger } from "../../modules/ports";
import { Code, RpcError } from "../../modules/rpc/status";
import { NorImage } from "../../modules/storage/nor-image";
import type { UploadSender } from "../../modules/sync/target";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { readUploadRequest } from "../support/sync-fakes";

function config(hz: number, dm: Record<string, unknown> = {}, extra: object[] = []): CaptureSettings {
  return parseMachineConfig({
    services: [{ name: "dm", api: "rdk:service:data_manager", attributes: dm }],
    components: [
      {
        name: "probe",
        api: "rdk:component:sensor",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: hz }] },
          },
        ],
      },
      ...extra,
    ],
  });
}

const wheel = {
  name: "wheel",
  api: "rdk:component:encoder",
  model: "fake",
  service_configs: [
    {
      type: "data_manager",
      attributes: { capture_methods: [{ method: "TicksCount", capture_frequency_hz: 4 }] },
    },
  ],
};

interface Received {
  component: string;
  tags: string[];
  readings: number;
}

function decode(body: Uint8Array): Received {
  const { component, tags, sensorData } = readUploadRequest(body);
  return { component, tags, readings: sensorData.length };
}

/** A sender whose answers the test controls: ok, held until released, or failing. */
class ControlledCloud implements UploadSender {
  received: Received[] = [];
  mode: "ok" | "hold" | "fail" = "ok";
  private held: (() => void)[] = [];
  async send(body: Uint8Array): Promise<void> {
    const request = decode(body);
    if (this.mode === "fail") throw new RpcError(Code.UNAVAILABLE, "down", "refused");
    if (this.mode === "hold") await new Promise<void>((resolve) => this.held.push(resolve));
    this.received.push(request);
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
  readingsOf(component: string): number {
    return this.received.filter((r) => r.component === component).reduce((n, r) => n + r.readings, 0);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** Advance fake time in 100 ms steps, letting each sync round (microtask "network") finish in between. */
async function run(clock: FakeClock, manager: DataManager, ms: number): Promise<void> {
  const end = clock.monotonic() + ms;
  while (clock.monotonic() < end) {
    clock.advanceTo(Math.min(end, clock.monotonic() + 100));
    await settle();
    if (manager.status().sync.state !== "syncing") continue;
    await manager.sync.idle();
  }
}

function device(
  flash: NorImage,
  clock: FakeClock,
  cloud: UploadSender,
  settings: CaptureSettings,
): DataManager {
  return new DataManager({
    flash,
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "p1",
    sender: cloud,
    settings,
    backoff: { jitter: 0 },
  });
}

function collector(manager: DataManager, name: string) {
  return manager.status().collectors.find((c) => c.componentName === name)!;
}

test("manager: an upload in flight never stops the sampler", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  const manager = device(new NorImage({ size: 256 * 1024 }), clock, cloud, config(100, { ring_sectors: 48 }));
  await run(clock, manager, 10_000);
  cloud.mode = "hold";
  const round = manager.syncNow(); // its first request is held by the "network"
  await settle();
  assert.equal(manager.status().sync.state, "syncing");
  const before = collector(manager, "probe");
  clock.advance(30_000);
  await settle();
  const during = collector(manager, "probe");
  assert.equal(during.captured - before.captured, 3000, "100 Hz for 30 s while the upload hangs");
  assert.equal(during.missedDeadlines, 0);
  assert.equal(during.dropped, 0, "the ring holds the backlog");
  cloud.mode = "ok";
  cloud.release();
  const result = await round;
  assert.ok(result.ok);
  assert.ok(cloud.readingsOf("probe") >= 1000);
  await manager.syncNow();
  const after = collector(manager, "probe");
  assert.equal(after.synced, after.captured);
  assert.equal(after.pending, 0);
  await manager.close();
});

test("manager: runtime reconfigure (rate, tags, interval, a new collector) loses nothing", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  const manager = device(new NorImage({ size: 256 * 1024 }), clock, cloud, config(10, { tags: ["a"] }));
  await run(clock, manager, 7_000);
  const before = collector(manager, "probe").captured;
  manager.apply(config(50, { tags: ["b"], sync_interval_mins: 0.5 / 60 }, [wheel]));
  assert.equal(manager.status().sync.settings.intervalMs, 500);
  await run(clock, manager, 10_000);
  await manager.syncNow();
  const probe = collector(manager, "probe");
  assert.equal(probe.frequencyHz, 50);
  const at50 = probe.captured - before;
  assert.ok(at50 >= 499 && at50 <= 501, `50 Hz for 10 s after the change: ${at50}`);
  assert.equal(cloud.readingsOf("probe"), probe.captured, "every reading delivered across the change");
  const wheelStatus = collector(manager, "wheel");
  assert.ok(wheelStatus.captured >= 40 && wheelStatus.lost === 0);
  assert.equal(cloud.readingsOf("wheel"), wheelStatus.captured);
  assert.ok(
    cloud.received.some((r) => r.tags[0] === "a") && cloud.received.at(-1)!.tags[0] === "b",
    "tags follow the config",
  );
  await manager.close();
});

test("manager: reboot, default setting: unsynced readings are discarded at open and counted", async () => {
  const flash = new NorImage({ size: 64 * 1024 });
  const cloud = new ControlledCloud();
  cloud.mode = "fail";
  let clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  let manager = device(flash, clock, cloud, config(20));
  await run(clock, manager, 20_000);
  const before = collector(manager, "probe");
  await manager.close(); // RAM batches reach flash
  assert.equal(before.synced, 0);
  clock = new FakeClock();
  clock.setWall(1_700_000_100_000);
  cloud.mode = "ok";
  manager = device(flash, clock, cloud, config(20));
  const after = collector(manager, "probe");
  assert.equal(after.lostAtBoot, before.captured, "20 Hz × 20 s discarded, and counted");
  assert.ok(before.captured >= 400);
  assert.equal(after.retainedAtBoot, 0);
  assert.equal(after.inFlash, 0);
  await manager.syncNow();
  assert.equal(cloud.readingsOf("probe"), 0, "nothing from before the reboot is sent");
  await manager.close();
});

test("manager: reboot, retain option: unsynced readings are uploaded after the reboot exactly once", async () => {
  const flash = new NorImage({ size: 64 * 1024 });
  const cloud = new ControlledCloud();
  const settings = config(20, { retain_unsynced_on_reboot: true });
  let clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  let manager = device(flash, clock, cloud, settings);
  await run(clock, manager, 12_000);
  const firstBoot = collector(manager, "probe").synced;
  assert.ok(firstBoot > 0);
  cloud.mode = "fail";
  await run(clock, manager, 8_000);
  const captured = collector(manager, "probe").captured;
  await manager.close();
  clock = new FakeClock();
  clock.setWall(1_700_000_100_000);
  cloud.mode = "ok";
  manager = device(flash, clock, cloud, settings);
  const after = collector(manager, "probe");
  assert.equal(after.retainedAtBoot, captured - firstBoot);
  assert.equal(after.lostAtBoot, 0);
  const second = await manager.syncNow();
  assert.ok(second.ok);
  assert.equal(
    cloud.readingsOf("probe"),
    captured + collector(manager, "probe").captured,
    "each reading once",
  );
  await manager.close();
});

test("manager: a ring left by an earlier config keeps syncing; status reports it as not configured", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  cloud.mode = "fail";
  const manager = device(new NorImage({ size: 256 * 1024 }), clock, cloud, config(10, {}, [wheel]));
  await run(clock, manager, 10_000);
  manager.apply(config(10));
  const left = collector(manager, "wheel");
  assert.equal(left.configured, false);
  assert.ok(left.inFlash > 0, "its pending readings are still in flash");
  cloud.mode = "ok";
  await manager.syncNow();
  assert.equal(cloud.readingsOf("wheel"), left.captured, "and they still reach the cloud");
  const status = manager.status();
  assert.equal(status.sync.state, "idle");
  assert.ok(status.flash.capacityBytes > 0 && status.flash.sizeBytes === 256 * 1024);
  await manager.close();
});

test("manager: synced data frees its flash — a ring carries many times its capacity without dropping", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  const manager = device(
    new NorImage({ size: 128 * 1024 }),
    clock,
    cloud,
    config(50, { sync_disabled: true, ring_sectors: 4 }),
  );
  const capacity = manager.status().flash.capacityBytes;
  // Time to fill 60 % of the ring at 50 Hz; each cycle captures that much, then syncs.
  const start = clock.monotonic();
  while (manager.status().flash.usedBytes < capacity * 0.6) await run(clock, manager, 1_000);
  const fillMs = clock.monotonic() - start;
  const perCycle = manager.status().flash.usedBytes;
  let carried = 0;
  for (let cycle = 0; cycle < 6; cycle++) {
    if (cycle > 0) await run(clock, manager, fillMs);
    carried += perCycle;
    assert.ok(manager.status().flash.pendingBytes > 0, `cycle ${cycle}: unsynced flash before the sync`);
    await manager.syncNow();
    assert.equal(collector(manager, "probe").pending, 0, `cycle ${cycle}: all synced`);
    const flash = manager.status().flash;
    assert.equal(flash.pendingBytes, 0, `cycle ${cycle}: synced flash no longer counts as kept`);
    assert.ok(flash.usedBytes > 0, "while the written space is only reclaimed when the ring wraps");
  }
  const probe = collector(manager, "probe");
  assert.ok(carried > 3 * capacity, `carried ${carried} bytes through a ${capacity}-byte ring`);
  assert.equal(probe.dropped, 0, "nothing overwritten: acknowledged space was reused");
  assert.equal(cloud.readingsOf("probe"), probe.synced);
  await manager.close();
});

test("manager: status() after close() reports the final counts, the last RAM batch in flash", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  const manager = device(new NorImage({ size: 128 * 1024 }), clock, cloud, config(20, {}, [wheel]));
  await run(clock, manager, 6_000);
  await manager.syncNow();
  await run(clock, manager, 3_000); // readings after the last sync: some in RAM, maybe some in flash
  const open = collector(manager, "probe");
  assert.ok(open.synced > 0 && open.inRam > 0, `synced ${open.synced}, in RAM ${open.inRam}`);
  await manager.close();
  const closed = manager.status();
  const probe = closed.collectors.find((c) => c.componentName === "probe")!;
  assert.equal(probe.captured, open.captured, "nothing lost from the counters, nothing captured after");
  assert.equal(probe.synced, open.synced);
  assert.equal(probe.inRam, 0, "close flushed the RAM batch");
  assert.equal(probe.inFlash, open.inFlash + open.inRam, "…into flash, where the final census counts it");
  assert.equal(probe.pending, open.pending);
  assert.equal(probe.dropped, 0);
  assert.equal(probe.frequencyHz, 20);
  assert.ok(closed.collectors.find((c) => c.componentName === "wheel")!.captured > 0);
  assert.ok(closed.flash.usedBytes > 0 && closed.flash.capacityBytes > 0);
  // A caller changing its copy does not change the next answer.
  probe.captured = -1;
  closed.sync.collectors[probe.key]!.synced = -1;
  assert.equal(collector(manager, "probe").captured, open.captured);
  assert.equal(manager.status().sync.collectors[probe.key]!.synced, open.synced);
  await manager.close(); // a second close is harmless and keeps the counts
  assert.equal(collector(manager, "probe").captured, open.captured);
});

test("manager: a ring that overwrites unsynced readings reads as full (pendingBytes ≈ capacityBytes)", async () => {
  const clock = new FakeClock();
  clock.setWall(1_700_000_000_000);
  const cloud = new ControlledCloud();
  cloud.mode = "fail";
  const manager = device(new NorImage({ size: 128 * 1024 }), clock, cloud, config(100, { ring_sectors: 4 }));
  const capacity = manager.status().flash.capacityBytes;
  let shares: number[] = [];
  while (collector(manager, "probe").dropped === 0) {
    await run(clock, manager, 1_000);
    shares.push(manager.status().flash.pendingBytes / capacity);
  }
  // Filling: the share climbs; capture erases ahead (two ~1000-byte batches) before the head
  // runs out, so the first overwrite comes just under 100 %.
  assert.ok(shares.length >= 3 && shares[0]! < shares.at(-2)!, `climbing: ${shares.join(", ")}`);
  shares = [];
  for (let s = 0; s < 20; s++) {
    await run(clock, manager, 1_000);
    shares.push(manager.status().flash.pendingBytes / capacity);
  }
  const margin = (2 * 1100) / capacity;
  for (const share of shares) {
    assert.ok(
      share >= 1 - margin - 0.01 && share <= 1 + 4096 / capacity,
      `overwriting: ${shares.join(", ")}`,
    );
  }
  await manager.close();
});
