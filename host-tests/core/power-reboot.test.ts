// Battery mode: the wake cause decides (both lanes). A wake from deep sleep
// continues the run; power-on, brownout and watchdog resets follow the reboot
// rule (retain_unsynced_on_reboot) for flash and for what RTC memory holds.
// Time across sleep: readings taken before the clock was ever set get their
// true wall-clock times once a later sync wake sets it.
import { assert, test } from "../harness/index";
import { BatteryDevice, batteryConfig } from "../support/power-rig";

async function wakes(device: BatteryDevice, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const o = await device.wake();
    device.sleep(o.sleepMs);
  }
}

function statusOf(device: BatteryDevice) {
  return device.lastSync!.manager!.status().collectors[0]!;
}

test("reboot rule by wake cause: deep-sleep wakes keep unsynced flash data; a power-on discards it (counted)", async () => {
  const device = new BatteryDevice(batteryConfig([{ name: "a", hz: 0.1 }], { sync_interval_mins: 5 }));
  device.cloud.available = false;
  await wakes(device, 200); // 2000 s: several sync wakes fail, readings pile up in flash
  const lastDeepSleepSync = statusOf(device);
  assert.equal(lastDeepSleepSync.lostAtBoot, 0, "a deep-sleep wake is not a reboot");
  assert.ok(lastDeepSleepSync.retainedAtBoot > 20, `kept ${lastDeepSleepSync.retainedAtBoot}`);
  assert.ok(device.log.lines.some((l) => l.includes("kept from before the deep sleep")));
  // Power-on: RTC memory is gone, and the flash backlog is discarded by the default rule.
  device.powerCut();
  device.cloud.available = true;
  const o = await device.wake();
  assert.equal(o.kind, "sync");
  assert.ok(device.log.lines.some((l) => l.includes("start after power-on: a reboot for the reboot rule")));
  const after = statusOf(device);
  assert.ok(after.lostAtBoot > 20, `lost at boot ${after.lostAtBoot}`);
  assert.equal(device.cloud.arrivals.length, 0, "nothing discarded is uploaded");
});

for (const retain of [false, true]) {
  test(`reboot rule: a watchdog reset with RTC memory intact ${retain ? "keeps" : "discards"} the batches it holds (retain_unsynced_on_reboot ${retain})`, async () => {
    const device = new BatteryDevice(
      batteryConfig([{ name: "a", hz: 0.1 }], { sync_interval_mins: 60, retain_unsynced_on_reboot: retain }),
    );
    await wakes(device, 12); // one sync wake, then capture wakes: readings held in RTC memory
    const held = device.heldInRtc();
    assert.ok(held.length >= 10, `held ${held.length}`);
    device.port.wakeCause = "watchdog";
    const o = await device.wake();
    assert.equal(o.kind, "sync");
    assert.equal(o.run.continuesRun, false);
    const arrived = new Set(device.cloud.arrivals.map((a) => a.id));
    if (retain) {
      for (const id of held) assert.ok(arrived.has(id), `${id} kept and uploaded`);
      assert.ok(
        device.log.lines.some((l) =>
          l.includes(`${held.length} reading(s) held in RTC memory kept across the watchdog reset`),
        ),
      );
    } else {
      for (const id of held) assert.ok(!arrived.has(id), `${id} discarded`);
      assert.equal(o.run.discardedAtReboot, held.length);
      assert.ok(
        device.log.lines.some((l) =>
          l.includes(`${held.length} reading(s) held in RTC memory discarded at the watchdog reset`),
        ),
      );
    }
  });
}

test("brownout: like power-on, RTC memory is lost; the log names the cause", async () => {
  const device = new BatteryDevice(batteryConfig([{ name: "a", hz: 0.1 }]));
  await wakes(device, 5);
  device.powerCut();
  device.port.wakeCause = "brownout";
  const o = await device.wake();
  assert.equal(o.run.continuesRun, false);
  assert.ok(device.log.lines.some((l) => l.includes("start after brownout")));
});

test("time across sleep: readings taken before the clock was ever set get their true times once a sync wake sets it", async () => {
  const device = new BatteryDevice(batteryConfig([{ name: "a", hz: 0.1 }], { sync_interval_mins: 5 }));
  device.sntp = false; // no time source at first: readings carry run time and the run's boot id
  await wakes(device, 70); // 700 s: two sync wakes without a clock
  assert.equal(device.cloud.arrivals.length, 0, "nothing is uploaded before its time is known");
  const early = [...device.world.truth.keys()];
  assert.ok(early.length > 60);
  device.sntp = true;
  await wakes(device, 40);
  const arrived = new Map(device.cloud.arrivals.map((a) => [a.id, a.requestedMs]));
  let placed = 0;
  for (const id of early) {
    const got = arrived.get(id);
    if (got === undefined) continue;
    assert.ok(
      Math.abs(got - device.world.truth.get(id)!) < 0.002,
      `${id}: ${got} vs ${device.world.truth.get(id)}`,
    );
    placed++;
  }
  assert.ok(placed >= early.length - device.heldInRtc().length, `placed ${placed} of ${early.length}`);
  assert.ok(placed > 50);
});

test("RTC memory: a batch whose bytes went bad is dropped and counted when it leaves for flash, its neighbours kept", async () => {
  const device = new BatteryDevice(batteryConfig([{ name: "a", hz: 0.1 }], { sync_interval_mins: 60 }));
  await wakes(device, 6);
  const held = device.heldInRtc();
  assert.ok(held.length >= 5);
  // Damage the first record's payload (past the header, slots and the record's own header).
  const image = device.port.rtc!;
  image[68 + 12 + 7 + 20]! ^= 0x01;
  device.port.wakeCause = "deep-sleep";
  device.setConfig(
    batteryConfig([{ name: "a", hz: 0.1 }], { sync_interval_mins: 60, sync_fill_threshold: 0.5 }),
  );
  // Force the sync: a run whose next sync is due now.
  let o = await device.wake();
  while (o.kind !== "sync") {
    device.sleep(o.sleepMs);
    device.port.now += 3_600_000;
    o = await device.wake();
  }
  assert.ok(
    device.log.lines.some((l) => l.includes("1 batch(es) in RTC memory failed their CRC and are dropped")),
  );
  const arrived = new Set(device.cloud.arrivals.map((a) => a.id));
  assert.equal(arrived.has(held[0]!), false);
  for (const id of held.slice(1)) assert.ok(arrived.has(id), `${id} kept`);
});
