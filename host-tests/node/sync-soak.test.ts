// A long simulated soak: hours of fake time with random outages, fault bursts
// (UNAVAILABLE, ack lost), clean reboots, power cuts at random flash operations
// and capture-rate changes, against the real local cloud over loopback. At the
// end the device drains, and the reconciliation is printed per collector:
//   captured = synced + dropped + lost (at boot, at cut, refused) + set aside + pending
// Every term is checked against the test's own truth (never-repeating counters
// in the readings), boot by boot. SOAK_HOURS (default 6) and SOAK_SEED override.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DataManager } from "../../modules/manager/data-manager";
import { Code } from "../../modules/rpc/status";
import type { TearMode } from "../../modules/storage/nor-image";
import { Random } from "../harness/random";
import { type CollectorSpec, Rig, settingsFor } from "../support/sync-rig";

const HOURS = Number(process.env.SOAK_HOURS ?? 6);
const SEED = Number(process.env.SOAK_SEED ?? 2026);
const FLUSH_SECS = 5;

function collectors(fastHz: number): CollectorSpec[] {
  return [
    { name: "vibration", type: "sensor", hz: fastHz, sectors: 16 },
    { name: "wheel", type: "encoder", hz: 1, sectors: 8 },
    { name: "weather", type: "sensor", hz: 0.2, sectors: 4 },
  ];
}
const NAMES = ["vibration", "wheel", "weather"];

interface Boot {
  first: Map<string, number>;
  last: Map<string, number>;
  synced: Map<string, number>;
  dropped: Map<string, number>;
  refused: Map<string, number>;
  setAside: Map<string, number>;
  lostAtBoot: Map<string, number>;
  /** Readings in capture's RAM when the boot ended (lost with the power at a cut; 0 after a clean close). */
  inRam: Map<string, number>;
  /** Records the store overwrote in this boot (its own count, next to the readings-level `dropped`). */
  droppedRecords: Map<string, number>;
  cut: boolean;
}

test(`soak: ${HOURS} simulated hours of outages, faults, reboots and power cuts; counts reconcile`, async () => {
  await soak(false, HOURS, SEED);
});

test(`soak with the retain option: ${HOURS / 2} simulated hours; nothing discarded at boot, counts reconcile`, async () => {
  await soak(true, HOURS / 2, Number(process.env.SOAK_RETAIN_SEED ?? 11));
});

async function soak(retain: boolean, hours: number, seed: number): Promise<void> {
  const HOURS = hours;
  const SEED = seed;
  const random = new Random(SEED);
  const rig = await new Rig({ flashBytes: 256 * 1024, timeoutMs: 2_000 }).start();
  const attrs = { flush_interval_secs: FLUSH_SECS, retain_unsynced_on_reboot: retain };
  let fastHz = 5;
  let settings = settingsFor(collectors(fastHz), attrs);
  const boots: Boot[] = [];
  const events: Record<string, number> = {};
  const count = (e: string) => {
    events[e] = (events[e] ?? 0) + 1;
  };
  try {
    let manager: DataManager = rig.boot(settings);
    let boot = startBoot(rig, manager);
    // Simulated time is measured on the wall clock: the monotonic clock restarts at every reboot.
    const startWall = rig.clock.wall();
    const end = HOURS * 3_600_000;
    while (rig.clock.wall() - startWall < end) {
      const gap = 5 * 60_000 + random.int(35 * 60_000);
      await rig.run(gap, 5_000);
      const event = random.pick([
        "outage",
        "outage",
        "unavailable",
        "ack-lost",
        "reboot",
        "power-cut",
        "rate",
      ]);
      count(event);
      if (event === "outage") {
        await rig.cloud.refuse();
        await rig.run(60_000 + random.int(2 * 3_600_000), 5_000);
        await rig.cloud.accept();
      } else if (event === "unavailable") {
        rig.cloud.faults.add({
          kind: "status",
          code: Code.UNAVAILABLE,
          method: "DataCaptureUpload",
          times: 1 + random.int(8),
        });
      } else if (event === "ack-lost") {
        rig.cloud.faults.add({ kind: "ack-lost", method: "DataCaptureUpload", times: 1 + random.int(3) });
      } else if (event === "rate") {
        fastHz = fastHz === 5 ? 8 : 5;
        settings = settingsFor(collectors(fastHz), attrs);
        manager.apply(settings);
      } else if (event === "reboot" || event === "power-cut") {
        let snapshot = manager.status();
        if (event === "power-cut") {
          const tears: TearMode[] = ["none", "prefix", "bits", "random"];
          rig.flash.armPowerCut({
            atOperation: rig.flash.operations + 1 + random.int(200),
            tear: random.pick(tears),
            seed: random.u32(),
          });
          await rig.run(30 * 60_000, 1_000, () => {
            if (rig.flash.poweredOff) return false;
            snapshot = manager.status();
            return true;
          });
          boot.cut = rig.flash.poweredOff;
        } else {
          await manager.close(); // orderly: RAM batches reach flash
        }
        // After a cut the RAM counters are exact but the flash is gone (its last readable view is the
        // snapshot); after a clean close the final status has both.
        const after = manager.status();
        endBoot(rig, boot, after, event === "power-cut" ? snapshot : after);
        boots.push(boot);
        manager = await rig.powerCycle(settings, 1_000 + random.int(60_000));
        boot = startBoot(rig, manager);
      }
    }
    // Drain: network healthy, faults cleared, one more interval, then sync now.
    rig.cloud.faults.clear();
    await rig.run(60_000, 5_000);
    await manager.syncNow();
    const final = manager.status();
    endBoot(rig, boot, final, final);
    boots.push(boot);

    const lines: string[] = [];
    let duplicates = 0;
    for (const name of NAMES) {
      const values = rig.cloudValues(name);
      const cloud = new Set(values);
      duplicates += values.length - cloud.size;
      const captured = rig.counters.of(name);
      for (const v of cloud)
        assert.ok(Number.isInteger(v) && v >= 1 && v <= captured, `${name}: ${v} is real`);
      let synced = 0;
      let dropped = 0;
      let lostAtBoot = 0;
      let lostAtCut = 0;
      let refused = 0;
      let setAside = 0;
      for (let b = 0; b < boots.length; b++) {
        const x = boots[b]!;
        const first = x.first.get(name)!;
        const last = x.last.get(name)!;
        let inCloud = 0;
        for (let v = first; v <= last; v++) if (cloud.has(v)) inCloud++;
        // Stored by the cloud, commit cut off by the reboot. With retain, a boot's readings may be
        // synced by later boots, so the per-boot view only holds for the default setting.
        const acked = retain ? 0 : inCloud - x.synced.get(name)!;
        assert.ok(acked >= 0, `${name}: boot ${b}: the cloud holds every reading the device counted synced`);
        if (retain) assert.equal(x.lostAtBoot.get(name), 0, "retain: nothing discarded at boot");
        const nextLost = boots[b + 1]?.lostAtBoot.get(name) ?? 0;
        const missing = last - first + 1 - inCloud;
        // Lost at the cut: counted when it happens (what capture held in RAM when the power went).
        const cut = x.inRam.get(name)!;
        const hz = name === "vibration" ? 8 : name === "wheel" ? 1 : 0.2;
        const perRecord = Math.ceil(hz * (FLUSH_SECS + 1)) + 2;
        const bound = x.cut ? perRecord : 0;
        assert.ok(
          cut <= bound,
          `${name}: boot ${b}: ${cut} in RAM at the ${x.cut ? "cut" : "reboot"} (bound ${bound})`,
        );
        // `dropped` (readings) must be backed by the store's own count of overwritten records.
        const droppedRecords = x.droppedRecords.get(name)!;
        assert.ok(
          x.dropped.get(name)! >= droppedRecords && x.dropped.get(name)! <= droppedRecords * perRecord,
          `${name}: boot ${b}: ${x.dropped.get(name)} readings dropped vs ${droppedRecords} records overwritten`,
        );
        if (!retain) {
          assert.equal(
            missing,
            x.dropped.get(name)! + x.refused.get(name)! + (nextLost - acked) + x.setAside.get(name)! + cut,
            `${name}: boot ${b}: every reading missing from the cloud is a counted loss`,
          );
        }
        synced += inCloud;
        dropped += x.dropped.get(name)!;
        lostAtBoot += nextLost - acked;
        lostAtCut += cut;
        refused += x.refused.get(name)!;
        setAside += x.setAside.get(name)!;
      }
      const pending = final.collectors.find((c) => c.componentName === name)!.pending;
      if (retain) {
        // A boot's readings may be synced by later boots, so account globally. Readings the cloud
        // stored but the device never committed (ack lost, then overwritten in a full ring) are in
        // the cloud and in the device's dropped count: take them out of dropped.
        const deviceSynced = boots.reduce((n, x) => n + x.synced.get(name)!, 0);
        const ackedNeverCommitted = cloud.size - deviceSynced;
        assert.ok(
          ackedNeverCommitted >= 0,
          `${name}: the cloud holds every reading the device counted synced`,
        );
        dropped -= ackedNeverCommitted;
        // lostAtCut is the sum of the RAM batches counted at each cut (above), not a remainder:
        // the reconciliation below is a real check.
      }
      const lost = lostAtBoot + lostAtCut + refused;
      assert.equal(pending, 0);
      assert.equal(captured, synced + dropped + lost + setAside + pending, `${name}: reconciles`);
      assert.equal(synced, cloud.size);
      lines.push(
        `| ${name} | ${captured} | ${synced} | ${dropped} | ${lost} (${lostAtBoot} at boot, ${lostAtCut} at cut, ${refused} refused) | ${setAside} | ${pending} |`,
      );
    }
    const ackLosses = rig.cloud.faults.counts["ack-lost"] ?? 0;
    const summary = [
      `soak${retain ? " (retain)" : ""}: ${((rig.clock.wall() - startWall) / 3_600_000).toFixed(1)} h simulated, seed ${SEED}, ${boots.length} boots, events ${JSON.stringify(events)}`,
      `sync rounds ${final.sync.rounds} (last boot), ack losses ${ackLosses}, duplicate readings in the cloud ${duplicates}`,
      "| collector | captured | synced | dropped (full) | lost | set aside | pending |",
      "|---|---|---|---|---|---|---|",
      ...lines,
    ].join("\n");
    console.log(summary);
    assert.ok(boots.length >= 3, "the soak rebooted the device several times");
    // Duplicates only from lost acknowledgements (or, with retain, a cut between ack and commit).
    const cuts = boots.filter((x) => x.cut).length;
    assert.ok(duplicates === 0 || ackLosses > 0 || (retain && cuts > 0), "duplicates only from lost acks");
  } finally {
    await rig.stop();
  }
}

function startBoot(rig: Rig, manager: DataManager): Boot {
  const status = manager.status();
  return {
    first: new Map(NAMES.map((n) => [n, rig.counters.of(n) + 1])),
    last: new Map(),
    synced: new Map(),
    dropped: new Map(),
    refused: new Map(),
    setAside: new Map(),
    lostAtBoot: new Map(
      NAMES.map((n) => [n, status.collectors.find((c) => c.componentName === n)?.lostAtBoot ?? 0]),
    ),
    inRam: new Map(),
    droppedRecords: new Map(),
    cut: false,
  };
}

/** `counts`: status after the boot's end (RAM counters exact); `flashView`: the last status with readable flash. */
function endBoot(
  rig: Rig,
  boot: Boot,
  counts: ReturnType<DataManager["status"]>,
  flashView: ReturnType<DataManager["status"]>,
): void {
  for (const name of NAMES) {
    const c = counts.collectors.find((x) => x.componentName === name);
    const f = flashView.collectors.find((x) => x.componentName === name);
    boot.last.set(name, rig.counters.of(name));
    boot.synced.set(name, c?.synced ?? 0);
    boot.refused.set(name, c ? c.lost - c.lostAtBoot : 0);
    boot.setAside.set(name, c?.setAside ?? 0);
    boot.dropped.set(name, f?.dropped ?? 0);
    boot.inRam.set(name, c?.inRam ?? 0);
    boot.droppedRecords.set(name, f?.droppedRecords ?? 0);
  }
}
