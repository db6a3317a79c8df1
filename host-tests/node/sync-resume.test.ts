// "Uploaded 33% → resumes at 33%": a large backlog interrupted a third of the
// way through resumes at the first unacknowledged chunk, over a network outage
// and over a reboot (with the retain option), against the real local cloud.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TransportError } from "../../modules/ports";
import type { UploadSender } from "../../modules/sync/target";
import { Rig, range, settingsFor } from "../support/sync-rig";

const COLLECTORS = [
  { name: "vib", type: "sensor", hz: 50, sectors: 48 },
  { name: "enc", type: "encoder", hz: 20, sectors: 24 },
] as const;

interface UploadRow {
  id: number;
  component_name: string;
  reading_count: number;
}

function uploadsAfter(rig: Rig, id: number): UploadRow[] {
  return rig.cloud.store.db
    .prepare("SELECT id, component_name, reading_count FROM uploads WHERE id > ? ORDER BY id")
    .all(id) as UploadRow[];
}

/**
 * The real client behind a switch: once `armAt` readings are in the cloud,
 * `onTrip` runs before the next request (break the network, or kill the device).
 */
class Tripwire implements UploadSender {
  armAt = Number.POSITIVE_INFINITY;
  tripped = false;
  /**
   * @param afterwards "again": `onTrip` runs before every later request too (a device that lost
   * power sends nothing more); "once": later requests go through (the outage is the cloud's).
   */
  constructor(
    private readonly rig: Rig,
    private readonly onTrip: () => Promise<void> | void,
    private readonly afterwards: "once" | "again" = "once",
  ) {}
  async send(request: Uint8Array): Promise<void> {
    if (this.tripped && this.afterwards === "again") await this.onTrip();
    if (!this.tripped && this.rig.cloud.count() >= this.armAt) {
      this.tripped = true;
      await this.onTrip();
    }
    return this.rig.client.send(request);
  }
}

/** Capture a backlog of ~2 minutes at 50 Hz + 20 Hz with sync disabled, then hand it to sync at once. */
async function buildBacklog(rig: Rig, sender: UploadSender, extra: Record<string, unknown> = {}) {
  const manager = rig.boot(settingsFor([...COLLECTORS], { sync_disabled: true, ...extra }), sender);
  await rig.run(120_000);
  manager.capture.flush();
  const total = rig.counters.of("vib") + rig.counters.of("enc");
  assert.ok(total >= 8000, `backlog of ${total} readings`);
  assert.equal(rig.cloud.count(), 0, "sync_disabled: nothing uploaded while capturing");
  return { manager, total };
}

function assertExactlyOnce(rig: Rig): void {
  for (const c of COLLECTORS) {
    assert.deepEqual(
      rig.cloudValues(c.name),
      range(1, rig.counters.of(c.name)),
      `${c.name}: exactly once, in order`,
    );
  }
}

test("interrupted at 33% by an outage: resumes at the first unacknowledged chunk, no duplicate, no gap", async () => {
  const rig = await new Rig({ flashBytes: 512 * 1024 }).start();
  try {
    const wire = new Tripwire(rig, () => rig.cloud.refuse());
    const { manager, total } = await buildBacklog(rig, wire);
    wire.armAt = total / 3;
    manager.apply(settingsFor([...COLLECTORS])); // sync enabled: the backlog goes at the next round
    await rig.nextRound();
    assert.equal(manager.status().sync.consecutiveFailures, 1, "the outage interrupted the round");
    const delivered = rig.cloud.count();
    assert.ok(
      delivered >= total / 3 && delivered < total / 2,
      `interrupted at ${((100 * delivered) / total).toFixed(1)}%`,
    );
    const status = manager.status();
    const synced = status.collectors.reduce((n, c) => n + c.synced, 0);
    assert.equal(synced, delivered, "the device's sync points match what the cloud acknowledged");
    const lastBefore = uploadsAfter(rig, 0).at(-1)!.id;

    await rig.cloud.accept();
    await rig.nextRound(); // the 200 ms retry
    await manager.syncNow();
    const resumed = uploadsAfter(rig, lastBefore);
    const resent = resumed.reduce((n, u) => n + u.reading_count, 0);
    const finalTotal = rig.counters.of("vib") + rig.counters.of("enc"); // capture went on meanwhile
    assert.equal(
      resent,
      finalTotal - delivered,
      "after recovery only the remaining two thirds (and newer) were sent",
    );
    assertExactlyOnce(rig);
  } finally {
    await rig.stop();
  }
});

test("interrupted at 33% by a reboot, retain option on: resumes at 33% after the reboot, nothing re-sent", async () => {
  const rig = await new Rig({ flashBytes: 512 * 1024 }).start();
  try {
    const wire = new Tripwire(
      rig,
      () => {
        throw new TransportError("reset", "device lost power mid-upload");
      },
      "again",
    );
    const { manager, total } = await buildBacklog(rig, wire, { retain_unsynced_on_reboot: true });
    wire.armAt = total / 3;
    await manager.syncNow();
    const delivered = rig.cloud.count();
    assert.ok(delivered >= total / 3 && delivered < total / 2);
    const lastBefore = uploadsAfter(rig, 0).at(-1)!.id;

    const settings = settingsFor([...COLLECTORS], { retain_unsynced_on_reboot: true });
    const rebooted = await rig.powerCycle(settings);
    const boot = rebooted.status();
    const retained = boot.collectors.reduce((n, c) => n + c.retainedAtBoot, 0);
    assert.equal(retained, total - delivered, "every unacknowledged reading kept across the reboot");
    assert.equal(
      boot.collectors.reduce((n, c) => n + c.lostAtBoot, 0),
      0,
    );
    await rebooted.syncNow();
    const afterReboot = uploadsAfter(rig, lastBefore).filter((u) => u.id > lastBefore);
    const resent = afterReboot.reduce((n, u) => n + u.reading_count, 0);
    // Plus what the new boot captured before its syncNow (a few ticks): nothing before the sync point again.
    const newSinceBoot = rebooted.status().collectors.reduce((n, c) => n + c.captured, 0);
    assert.equal(
      resent,
      total - delivered + newSinceBoot,
      "after the reboot only the unacknowledged part was sent",
    );
    assertExactlyOnce(rig);
  } finally {
    await rig.stop();
  }
});

test("interrupted at 33% by a reboot, default setting: the unsynced rest is lost and counted, nothing re-sent", async () => {
  const rig = await new Rig({ flashBytes: 512 * 1024 }).start();
  try {
    const wire = new Tripwire(
      rig,
      () => {
        throw new TransportError("reset", "device lost power mid-upload");
      },
      "again",
    );
    const { manager, total } = await buildBacklog(rig, wire);
    wire.armAt = total / 3;
    await manager.syncNow();
    const delivered = rig.cloud.count();
    const rebooted = await rig.powerCycle(settingsFor([...COLLECTORS]));
    const lost = rebooted.status().collectors.reduce((n, c) => n + c.lostAtBoot, 0);
    assert.equal(
      lost,
      total - delivered,
      "viam-micro-server semantics: data after the sync point is lost at reboot",
    );
    await rig.run(20_000);
    await rebooted.syncNow();
    for (const c of COLLECTORS) {
      const values = rig.cloudValues(c.name);
      assert.equal(new Set(values).size, values.length, `${c.name}: no duplicate`);
      for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, `${c.name}: in order`);
    }
    const s = rebooted.status();
    const capturedSinceBoot = s.collectors.reduce((n, c) => n + c.captured, 0);
    assert.equal(
      rig.cloud.count(),
      delivered + capturedSinceBoot,
      "cloud = acknowledged before + everything after",
    );
  } finally {
    await rig.stop();
  }
});
