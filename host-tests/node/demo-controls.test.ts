// The demo's controls, driven through the same Demo methods the keys call,
// against a real local cloud and the simulated device (firmware boot code,
// file-backed NOR flash), each in its own temp data dir.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { Demo } from "../../tools/demo/demo.ts";
import { RecentLog } from "../../tools/demo/node-ports.ts";
import { closingLine, type DemoStatus, totals, unaccounted } from "../../tools/demo/status.ts";

const fallbackConfig = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, "../../tools/demo/fallback-machine-config.json"), "utf8"),
);
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A data dir holding the demo's config with a faster sync interval (`syncMins`). */
function dataDir(syncMins: number): { dir: string; configPath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-demo-"));
  dirs.push(dir);
  const config = structuredClone(fallbackConfig);
  config.services[0].attributes.sync_interval_mins = syncMins;
  const configPath = path.join(dir, "test-config.json");
  fs.writeFileSync(configPath, JSON.stringify(config));
  return { dir, configPath };
}

async function startDemo(syncMins: number): Promise<Demo> {
  const { dir, configPath } = dataDir(syncMins);
  return Demo.start({
    dataDir: dir,
    port: 0,
    machineConfigPath: configPath,
    configPollSecs: 1,
    log: new RecentLog(500),
  });
}

/** Sampler deadlines so far, across collectors: captured + missed. */
function deadlines(status: DemoStatus): number {
  return status.collectors.reduce((n, c) => n + c.captured + c.missed, 0);
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const row = (s: DemoStatus, name: string) => s.collectors.find((c) => c.componentName === name)!;

/**
 * Readings the cloud holds more than once: the same SensorData (capture time,
 * values) for the same stream. Capture time alone is not an identity: a
 * sampler catching up after a late timer can stamp two readings alike.
 */
function duplicatesInCloud(demo: Demo): number {
  const r = demo.cloud.store.db
    .prepare(
      `SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT component_name, method_name, sensor_data FROM readings)) AS d
       FROM readings`,
    )
    .get() as { d: number };
  return r.d;
}

test("network cut stops uploads and shows the backoff; restore catches up", async () => {
  const demo = await startDemo(0.02);
  try {
    await waitFor("first upload", () => totals(demo.status()).synced > 0);
    demo.cutNetwork();
    const cutAt = demo.cloud.count();
    const backingOff = await waitFor("backoff after the cut", () => {
      const s = demo.status();
      return s.sync.state === "backing-off" && s.sync.backoffMs > 0 ? s : undefined;
    });
    assert.equal(backingOff.network, "down");
    assert.match(backingOff.sync.lastError ?? "", /network is down/);
    const before = totals(demo.status());
    const deadlinesBefore = deadlines(demo.status());
    await sleep(2500);
    const during = totals(demo.status());
    // At most the request already in flight when the cut came can land.
    assert.ok(demo.cloud.count() - cutAt <= 1000, "uploads stopped");
    assert.equal(during.synced, before.synced, "nothing acknowledged while the network is down");
    // Deadlines (captured + missed) follow the clock on any machine; a loaded one misses some.
    assert.ok(deadlines(demo.status()) > deadlinesBefore + 200, "capture continues offline");
    assert.ok(during.pending > before.pending, "the backlog grows in flash");

    demo.restoreNetwork();
    const caughtUp = await waitFor("catch-up after restore", () => {
      const s = demo.status();
      const t = totals(s);
      return s.sync.state === "idle" &&
        s.sync.backoffMs === 0 &&
        t.synced > during.synced + during.pending / 2
        ? s
        : undefined;
    });
    assert.equal(caughtUp.network, "up");
    // A cut can land while a request is in flight after the cloud stored it (its answer is lost):
    // the device uploads that chunk again, so the cloud may hold it twice — at least once, never lost.
    const duplicates = duplicatesInCloud(demo);
    assert.equal(
      demo.cloud.count() - duplicates,
      totals(caughtUp).synced,
      "the cloud holds exactly what the device counts as synced",
    );
    assert.ok(duplicates <= 2000, `${duplicates} duplicates: at most one re-sent request's worth`);
  } finally {
    await demo.stop();
  }
});

test("sync now uploads at once, well before the interval", async () => {
  const demo = await startDemo(10); // a ten-minute interval: nothing would go up by itself
  try {
    await waitFor("captured readings", () => totals(demo.status()).captured > 300);
    await sleep(1500);
    assert.equal(demo.cloud.count(), 0, "no upload before the interval");
    const ok = await demo.syncNow();
    assert.equal(ok, true);
    const s = demo.status();
    assert.ok(totals(s).synced > 300, "the backlog went up in that round");
    assert.equal(demo.cloud.count(), totals(s).synced);
  } finally {
    await demo.stop();
  }
});

test("a frequency change through the cloud config takes effect without a reboot", async () => {
  const demo = await startDemo(0.02);
  try {
    await waitFor("temperature collector running", () => row(demo.status(), "temperature")?.hz === 1);
    const key = row(demo.status(), "temperature").key;
    const revision = demo.setFrequency(key, 25);
    assert.equal(revision, "2");
    await waitFor("the device applying 25 Hz", () => row(demo.status(), "temperature").hz === 25, 10_000);
    // Deadlines per second (captured + missed: a loaded machine misses some, counted) show the rate.
    const due = () => {
      const r = row(demo.status(), "temperature");
      return r.captured + r.missed;
    };
    const a = due();
    const t0 = Date.now();
    await sleep(2000);
    const rate = (due() - a) / ((Date.now() - t0) / 1000);
    assert.ok(rate > 15 && rate < 35, `${rate.toFixed(1)} deadlines/s at 25 Hz`);
    const s = demo.status();
    assert.equal(s.boots, 1, "no reboot");
    assert.equal(row(s, "temperature").lost, 0, "nothing lost by the reconfiguration");
    // The change is durable: it is in the data dir's config the next start serves.
    const saved = JSON.parse(fs.readFileSync(path.join(demo.dataDir, "machine-config.json"), "utf8"));
    const temp = saved.components.find((c: { name: string }) => c.name === "temperature");
    assert.equal(temp.service_configs[0].attributes.capture_methods[0].capture_frequency_hz, 25);
  } finally {
    await demo.stop();
  }
  // The next start continues the revision history: the device never sees "revision 1" after "2".
  const again = await Demo.start({ dataDir: demo.dataDir, port: 0, log: new RecentLog(500) });
  try {
    const partId = JSON.parse(fs.readFileSync(path.join(demo.dataDir, "viam.json"), "utf8")).cloud.id;
    assert.equal(again.cloud.config(partId).revision, "2");
    const next = again.setFrequency(
      row(again.status(), "temperature")?.key ?? "rdk:component:sensor/temperature/Readings",
      5,
    );
    assert.equal(next, "3");
  } finally {
    await again.stop();
  }
});

test("reboot cuts power mid flash operation; the store reopens and the counts reconcile", async () => {
  const demo = await startDemo(0.05);
  try {
    await waitFor("first upload", () => totals(demo.status()).synced > 0);
    await sleep(1000);
    await demo.reboot({ tear: "none", afterOperations: 2 });
    let s = await waitFor("second boot running", () => {
      const st = demo.status();
      return st.boots === 2 && st.deviceState === "running" ? st : undefined;
    });
    // What was in flash at the cut is exactly what the new boot found and discarded (the default reboot rule).
    assert.ok(s.reconciliation.inFlashAtCuts > 0, "there was unsynced data in flash at the cut");
    const lostAtReboot = demo.currentDevice!.status()!.collectors.reduce((n, c) => n + c.lostAtBoot, 0);
    assert.equal(lostAtReboot, s.reconciliation.inFlashAtCuts);
    assert.equal(unaccounted(s), 0, "captured = synced + dropped + lost + set aside + pending");
    assert.ok(demo.log.recent(500).some((l) => /POWER CUT/.test(l)));

    // Capture and sync carry on in the new boot.
    const before = totals(s);
    await waitFor("uploads after the reboot", () => totals(demo.status()).synced > before.synced);

    // A second cut with a random tear: never a duplicate in the cloud, the device keeps working.
    await demo.reboot();
    s = await waitFor("third boot running", () => {
      const st = demo.status();
      return st.boots === 3 && st.deviceState === "running" ? st : undefined;
    });
    await waitFor("uploads after the second reboot", () => totals(demo.status()).synced > totals(s).synced);
    assert.equal(duplicatesInCloud(demo), 0);
    assert.ok(demo.cloud.count() >= totals(demo.status()).synced);
  } finally {
    await demo.stop();
  }
});

test("stop is clean and a second start continues with the same flash image and database", async () => {
  const { dir, configPath } = dataDir(0.02);
  const first = await Demo.start({
    dataDir: dir,
    port: 0,
    machineConfigPath: configPath,
    log: new RecentLog(500),
  });
  await waitFor("uploads", () => totals(first.status()).synced > 100);
  const end = await first.stop();
  const t = totals(end);
  assert.match(closingLine(end), /^demo: \d+ readings captured, \d+ synced$/);
  assert.equal(end.cloudReadings, t.synced);
  assert.ok(t.pending >= 0 && t.captured >= t.synced);
  assert.equal(unaccounted(end), 0);

  const log = new RecentLog(500);
  const second = await Demo.start({ dataDir: dir, port: 0, log });
  try {
    const s = await waitFor("second run uploading", () => {
      const st = second.status();
      return totals(st).synced > 0 ? st : undefined;
    });
    // Same database (the first run's readings are there), same flash image (not re-created, data found in it).
    assert.ok(s.cloudReadings >= t.synced + totals(s).synced);
    assert.ok(!log.recent(500).some((l) => /new blank flash image/.test(l)));
    assert.equal(
      s.reconciliation.carriedIn,
      t.pending,
      "the first run's unsynced readings are found at the second boot",
    );
  } finally {
    await second.stop();
  }
});
