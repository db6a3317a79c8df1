// Battery mode's schedule and RTC image (both lanes): which wakes, how long
// the sleeps, collectors at different rates, a wake that overruns, the sync
// fill threshold, the retry after a failed sync; the RTC layout's checks.
import { parseMachineConfig } from "../../modules/config/machine-config";
import { describeIssue } from "../../modules/config/settings";
import { PowerRun } from "../../modules/power/power-run";
import {
  decodeRtcImage,
  emptyRtcState,
  encodeRtcImage,
  RTC_HEADER_BYTES,
  RTC_IMAGE_BYTES,
  RTC_RECORD_HEADER,
  RTC_SLOT_BYTES,
  rtcRecord,
  rtcRecordIntact,
} from "../../modules/power/rtc-image";
import {
  advanceSlot,
  afterSync,
  alignSlots,
  COALESCE_MS,
  dueSlots,
  MIN_SLEEP_MS,
  nextWake,
  RETRY_FIRST_MS,
  slotSpecs,
  syncDue,
} from "../../modules/power/schedule";
import { assert, test } from "../harness/index";
import { BatteryDevice, batteryConfig, FakeSleepPort, RecordingLog } from "../support/power-rig";

function settings(sensors: { name: string; hz: number }[], dm: Record<string, unknown> = {}) {
  return parseMachineConfig(batteryConfig(sensors, dm));
}

test("power settings: power_mode, viam-micro-server's firmware_mode and timeout, bad values reported", () => {
  assert.equal(settings([]).power?.mode, "deep_sleep");
  const micro = parseMachineConfig({
    services: [
      {
        name: "dm",
        api: "rdk:service:data_manager",
        attributes: { firmware_mode: "deep_sleep_between_data_syncs", deep_sleep_action_timeout_seconds: 30 },
      },
    ],
  });
  assert.equal(micro.power?.mode, "deep_sleep");
  assert.equal(micro.power?.syncWakeBudgetMs, 30_000);
  assert.equal(micro.issues.length, 0, micro.issues.map(describeIssue).join("; "));
  const normal = parseMachineConfig({
    services: [{ name: "dm", api: "rdk:service:data_manager", attributes: { firmware_mode: "normal" } }],
  });
  assert.equal(normal.power?.mode, "always_on");
  const bad = parseMachineConfig({
    services: [
      {
        name: "dm",
        api: "rdk:service:data_manager",
        attributes: { power_mode: "nap", sync_fill_threshold: 2, capture_wake_budget_ms: -1 },
      },
    ],
  });
  assert.equal(bad.power?.mode, "always_on");
  assert.equal(bad.power?.syncFillThreshold, 0.5);
  assert.equal(bad.issues.filter((i) => i.severity === "error").length, 3);
  // Without the attributes nothing changes: the default is always on.
  assert.equal(parseMachineConfig({ services: [] }).power, undefined);
});

test("schedule: collectors at different rates share wakes on their own grids; sleeps run to the next deadline", () => {
  const s = settings([
    { name: "fast", hz: 0.1 },
    { name: "slow", hz: 1 / 60 },
  ]);
  const specs = slotSpecs(s);
  assert.deepEqual(
    specs.map((x) => [x.key.split("/")[1], x.periodMs]),
    [
      ["fast", 10_000],
      ["slow", 60_000],
    ],
  );
  const state = emptyRtcState(7, 0);
  state.nextSyncMs = 3_600_000;
  alignSlots(state, specs, 0);
  // First deadlines one period after the schedule starts.
  assert.equal(nextWake(state, specs, s, 0).sleepMs, 10_000);
  const wakes: string[] = [];
  let now = 0;
  for (let i = 0; i < 12; i++) {
    now += nextWake(state, specs, s, now).sleepMs + 35; // each wake starts 35 ms late (boot)
    const due = dueSlots(state, specs, now);
    wakes.push(due.map((d) => specs[d]!.key.split("/")[1]).join("+"));
    for (const d of due) assert.equal(advanceSlot(state.slots[d]!, specs[d]!, now + 20, true), 0);
  }
  assert.deepEqual(wakes, [
    "fast",
    "fast",
    "fast",
    "fast",
    "fast",
    "fast+slow",
    "fast",
    "fast",
    "fast",
    "fast",
    "fast",
    "fast+slow",
  ]);
  // No drift: the 12th wake is at 120 s + the boot delay, not 12 × (10 s + 35 ms).
  assert.ok(Math.abs(now - 120_035) < 1, `now ${now}`);
});

test("schedule: an overrunning wake counts the deadlines it passed as missed and never catches up", () => {
  const s = settings([{ name: "fast", hz: 0.1 }]);
  const specs = slotSpecs(s);
  const state = emptyRtcState(7, 0);
  alignSlots(state, specs, 0);
  // A wake at 10 s that ran until 45 s: deadlines 20, 30 and 40 s passed during it.
  assert.equal(advanceSlot(state.slots[0]!, specs[0]!, 10_000, true), 0);
  assert.equal(advanceSlot(state.slots[0]!, specs[0]!, 45_000, false), 3);
  const wake = nextWake(state, specs, s, 45_000);
  assert.equal(wake.atMs, 50_000);
  // A deadline closer than COALESCE_MS is served now rather than with a sleep of its own.
  assert.deepEqual(dueSlots(state, specs, 50_000 - COALESCE_MS), [0]);
  assert.deepEqual(dueSlots(state, specs, 50_000 - COALESCE_MS - 1), []);
  assert.equal(nextWake(state, specs, s, 49_990).sleepMs, MIN_SLEEP_MS);
});

test("schedule: a sync wake at the interval or when a ring passed the fill threshold; failures back off from 1 min", () => {
  const s = settings([{ name: "a", hz: 1 / 60 }], { sync_interval_mins: 60 });
  const state = emptyRtcState(7, 0);
  state.nextSyncMs = 3_600_000;
  assert.equal(syncDue(state, s, 1_000_000), false);
  state.fillHigh = true;
  assert.equal(syncDue(state, s, 1_000_000), true);
  afterSync(state, s, 1_000_000, true);
  assert.equal(state.fillHigh, false);
  // Back on the hourly grid.
  assert.equal(state.nextSyncMs, 3_600_000);
  assert.equal(syncDue(state, s, 3_600_000 - COALESCE_MS), true);
  afterSync(state, s, 3_600_500, false);
  assert.equal(state.nextSyncMs, 3_600_500 + RETRY_FIRST_MS);
  afterSync(state, s, state.nextSyncMs, false);
  afterSync(state, s, state.nextSyncMs, false);
  assert.equal(state.syncFailures, 3);
  const at = state.nextSyncMs;
  afterSync(state, s, at, false);
  assert.equal(state.nextSyncMs - at, 8 * RETRY_FIRST_MS);
  for (let i = 0; i < 10; i++) afterSync(state, s, state.nextSyncMs, false);
  const at2 = state.nextSyncMs;
  afterSync(state, s, at2, false);
  assert.equal(state.nextSyncMs - at2, 3_600_000, "never later than the interval or an hour");
  afterSync(state, s, state.nextSyncMs, true);
  assert.equal(state.syncFailures, 0);
  const off = settings([{ name: "a", hz: 1 / 60 }], { sync_disabled: true });
  assert.equal(syncDue(state, off, Number.MAX_SAFE_INTEGER), false);
});

test("capture wake: the budget bounds the wake; the collectors not read count as missed", async () => {
  const device = new BatteryDevice(
    batteryConfig(
      [
        { name: "a", hz: 0.1 },
        { name: "b", hz: 0.1 },
        { name: "c", hz: 0.1 },
      ],
      { capture_wake_budget_ms: 50 },
    ),
  );
  device.world.readCostMs = 30;
  let outcome = await device.wake(); // the reboot: a sync wake
  assert.equal(outcome.kind, "sync");
  device.sleep(outcome.sleepMs);
  outcome = await device.wake();
  assert.equal(outcome.kind, "capture");
  // a (30 ms), b (60 ms > 50): c is skipped.
  assert.deepEqual([...device.world.reads.keys()].sort(), ["a", "b"]);
  assert.equal(outcome.run.state.overruns, 1);
  assert.equal(outcome.run.state.missed, 1);
  assert.ok(device.log.lines.some((l) => l.includes("overran its 50 ms budget")));
});

test("capture wake: a ring past the sync fill threshold makes the next wake a sync wake", async () => {
  const device = new BatteryDevice(
    batteryConfig([{ name: "a", hz: 1 }], { sync_interval_mins: 600, sync_fill_threshold: 0.02 }),
  );
  device.world.readCostMs = 1;
  let syncs = 0;
  for (let i = 0; i < 400; i++) {
    const o = await device.wake();
    if (o.kind === "sync") syncs++;
    device.sleep(o.sleepMs);
  }
  // With a 10-hour interval only the threshold can have caused the syncs after the first.
  assert.ok(syncs >= 2, `sync wakes ${syncs}`);
  assert.ok(device.log.lines.some((l) => l.includes("appended to flash")));
});

test("RTC image: round trip; a flipped bit, a torn length, a foreign version read as no image", () => {
  const state = emptyRtcState(42, 123.5);
  state.wallOffsetMs = 1.7e12;
  state.nextSyncMs = 3_600_000;
  state.slots = [
    { originMs: 0, index: 3 },
    { originMs: 10, index: 1 },
  ];
  state.records = [rtcRecord(1, new Uint8Array([1, 2, 3])), rtcRecord(0, new Uint8Array(100).fill(7))];
  state.fillHigh = true;
  state.seq = 9;
  const image = encodeRtcImage(state);
  // Only the bytes in use: header, 2 slots, records of 3 and 100 bytes with their 7-byte headers.
  assert.equal(image.length, 68 + 2 * 12 + 7 + 3 + 7 + 100);
  // Saved into a longer area whose tail holds stale bytes, it reads back the same.
  const area = new Uint8Array(RTC_IMAGE_BYTES).fill(0x5a);
  area.set(image);
  assert.deepEqual(decodeRtcImage(area), decodeRtcImage(image));
  const back = decodeRtcImage(image);
  assert.ok(back.ok);
  if (!back.ok) return;
  assert.deepEqual(back.state, state);
  for (const at of [5, 12, 20, 50, RTC_HEADER_BYTES + 3, RTC_HEADER_BYTES + 2 * RTC_SLOT_BYTES - 1]) {
    const bad = image.slice();
    bad[at]! ^= 0x10;
    const d = decodeRtcImage(bad);
    assert.equal(d.ok, false, `bit flip at ${at}`);
  }
  // A flipped bit in a record: the image reads, and the record fails its own CRC when it is used.
  const flipped = image.slice();
  flipped[RTC_HEADER_BYTES + 2 * RTC_SLOT_BYTES + RTC_RECORD_HEADER + 1]! ^= 0x04;
  const d = decodeRtcImage(flipped);
  assert.ok(d.ok);
  if (d.ok) {
    assert.equal(rtcRecordIntact(d.state.records[0]!), false);
    assert.equal(rtcRecordIntact(d.state.records[1]!), true);
  }
  const noMagic = image.slice();
  noMagic[0] = 0;
  assert.equal(decodeRtcImage(noMagic).ok, false);
  assert.equal(decodeRtcImage(new Uint8Array(RTC_IMAGE_BYTES).fill(0xa5)).ok, false);
  assert.equal(decodeRtcImage(undefined).ok, false);
  const big = emptyRtcState(1, 0);
  big.records = [rtcRecord(0, new Uint8Array(RTC_IMAGE_BYTES))];
  assert.throws(() => encodeRtcImage(big), /do not fit/);
});

test("power run: a deep-sleep wake with a corrupt image is a reboot, logged with the reason", () => {
  const port = new FakeSleepPort();
  const state = emptyRtcState(5, 0);
  const image = encodeRtcImage(state);
  image[30]! ^= 1;
  port.rtc = image;
  port.wakeCause = "deep-sleep";
  const log = new RecordingLog();
  const run = new PowerRun(port, log, false);
  assert.equal(run.continuesRun, false);
  assert.ok(
    log.lines.some((l) => l.includes("no usable RTC image (RTC image CRC mismatch)")),
    log.lines.join("\n"),
  );
});
