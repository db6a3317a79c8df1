// Sync end to end over real loopback HTTP: the DataManager (NOR flash emulation,
// capture, sync) against the local cloud, driven by a fake clock.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Rig, range, settingsFor, WALL_START } from "../support/sync-rig";

const collectors = [
  { name: "temp", type: "sensor", hz: 10 },
  { name: "fast", type: "sensor", hz: 100 },
  { name: "wheel", type: "encoder", hz: 25 },
  { name: "slow", type: "sensor", hz: 0.5 },
] as const;

let rig: Rig;
before(async () => {
  rig = await new Rig().start();
});
after(async () => {
  await rig.stop();
});

test("happy path: several collectors, many rounds; the cloud holds exactly the captured readings in order with metadata and timestamps", async () => {
  const settings = settingsFor([...collectors], { tags: ["lab", "unit-test"], sync_interval_mins: 0.05 });
  const manager = rig.boot(settings);
  await rig.run(60_000); // one simulated minute: 20 sync rounds of 3 s
  await manager.syncNow(); // flush RAM batches and upload the rest
  const status = manager.status();
  assert.ok(status.sync.rounds >= 20, `rounds: ${status.sync.rounds}`);
  assert.equal(status.sync.failedRounds, 0);
  for (const c of collectors) {
    const values = rig.cloudValues(c.name);
    const captured = rig.counters.of(c.name);
    assert.ok(captured >= Math.floor(c.hz * 60) - 1, `${c.name} captured ${captured}`);
    assert.deepEqual(values, range(1, captured), `${c.name}: every reading exactly once, in order`);
    const s = status.collectors.find((x) => x.componentName === c.name)!;
    assert.equal(s.captured, captured);
    assert.equal(s.synced, captured);
    assert.equal(s.pending, 0);
    assert.equal(s.dropped + s.lost + s.setAside, 0);
  }
  // Metadata and timestamps as Viam files them.
  const temp = rig.cloud.readings({ componentName: "temp", limit: 100 });
  for (const r of temp) {
    assert.equal(r.partId, "part-under-test");
    assert.equal(r.componentType, "rdk:component:sensor");
    assert.equal(r.methodName, "Readings");
    const n = (r.data as { readings: { n: number; half: number } }).readings;
    assert.equal(n.half, n.n / 2);
    // 10 Hz from t=0 on the fake clock: reading n was requested at (n-1)·100 ms, ±1 tick.
    assert.ok(r.timeRequestedMs !== null && r.timeReceivedMs !== null);
    const expected = WALL_START + (n.n - 1) * 100;
    assert.ok(
      Math.abs(r.timeRequestedMs! - expected) <= 100,
      `n=${n.n}: ${r.timeRequestedMs} vs ${expected}`,
    );
    assert.ok(r.timeReceivedMs! >= r.timeRequestedMs!);
  }
  const wheel = rig.cloud.readings({ componentName: "wheel", limit: 1 })[0]!;
  assert.equal(wheel.componentType, "rdk:component:encoder");
  assert.equal(wheel.methodName, "TicksCount");
  const counts = rig.cloud.counts({ partId: "part-under-test" });
  assert.equal(counts.length, collectors.length);
  // Tags from the data_manager config on every upload; each request within the 32 KB budget.
  const uploads = rig.cloud.store.db
    .prepare("SELECT tags, data_type, request_bytes, reading_count FROM uploads")
    .all() as { tags: string; data_type: number; request_bytes: number; reading_count: number }[];
  assert.ok(uploads.length >= 20);
  for (const u of uploads) {
    assert.deepEqual(JSON.parse(u.tags), ["lab", "unit-test"]);
    assert.equal(u.data_type, 2, "DATA_TYPE_TABULAR_SENSOR");
    assert.ok(u.request_bytes <= 32 * 1024 + 256, `request of ${u.request_bytes} bytes`);
  }
});

test("readings captured before the wall clock was valid wait, then go out with corrected timestamps (never 1970)", async () => {
  const offline = await new Rig().start();
  try {
    offline.clock.clearWall();
    const manager = offline.boot(
      settingsFor([{ name: "early", type: "sensor", hz: 10 }], { sync_interval_mins: 0.05 }),
    );
    await offline.run(20_000);
    assert.equal(offline.cloud.count(), 0, "nothing uploaded while times cannot be placed");
    assert.equal(manager.status().sync.failedRounds, 0, "waiting for the clock is not a failure");
    // SNTP answers at monotonic 20 s: wall = WALL_START + 20 s from now on.
    offline.clock.setWall(WALL_START + 20_000);
    await offline.run(10_000);
    await manager.syncNow();
    const readings = offline.cloud.readings({ componentName: "early", limit: 10_000 });
    assert.equal(readings.length, offline.counters.of("early"));
    for (const r of readings) {
      const n = (r.data as { readings: { n: number } }).readings.n;
      const expected = WALL_START + (n - 1) * 100;
      assert.ok(
        Math.abs(r.timeRequestedMs! - expected) <= 100,
        `n=${n}: ${r.timeRequestedMs} vs ${expected}`,
      );
    }
  } finally {
    await offline.stop();
  }
});

test("over TLS: uploads on one verified connection; a server whose certificate does not verify gets nothing", async () => {
  const secure = await new Rig({ tls: true }).start();
  try {
    const manager = secure.boot(
      settingsFor([{ name: "tls", type: "sensor", hz: 5 }], { sync_interval_mins: 0.05 }),
    );
    await secure.run(30_000);
    await manager.syncNow();
    assert.ok(secure.cloud.url.startsWith("https://"));
    assert.deepEqual(secure.cloudValues("tls"), range(1, secure.counters.of("tls")));
    assert.equal(secure.transport.stats.tlsHandshakes, 1, "one handshake for every upload");
  } finally {
    await secure.stop();
  }
  const untrusted = await new Rig({ tls: true, trustCa: false }).start();
  try {
    const manager = untrusted.boot(settingsFor([{ name: "tls", type: "sensor", hz: 5 }]));
    await untrusted.run(20_000);
    await manager.syncNow();
    assert.equal(untrusted.cloud.count(), 0, "nothing sent to an unverified server");
    const sync = manager.status().sync;
    assert.ok(sync.consecutiveFailures > 0);
    assert.match(sync.lastError!.reason, /tls|certificate/i);
    assert.ok(manager.status().collectors[0]!.inFlash > 0, "the readings wait in flash");
  } finally {
    await untrusted.stop();
  }
});
