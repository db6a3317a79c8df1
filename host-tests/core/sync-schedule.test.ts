import { silentLogger } from "../../modules/ports";
import { SyncService } from "../../modules/sync/sync-service";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { FakeClock } from "../support/fake-clock";
import { MemoryRing } from "../support/memory-store";
import { binaryTarget, idRecord, ScriptedCloud, settle } from "../support/sync-fakes";

function setup(settings: { intervalMs?: number; disabled?: boolean } = {}, jitter = 0) {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const random = new Random(11);
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log: silentLogger,
    settings,
    backoff: { jitter, random: () => random.float() },
  });
  const ring = new MemoryRing("s");
  service.setTargets([binaryTarget(ring)]);
  return { clock, cloud, service, ring };
}

/** Advance the fake clock and let the round it starts finish on the (microtask) network. */
async function advance(clock: FakeClock, service: SyncService, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
  await service.idle();
  await settle();
}

test("schedule: a round every interval (default 6 s), data captured in between goes out at the next one", async () => {
  const { clock, cloud, service, ring } = setup();
  assert.equal(service.status().settings.intervalMs, 6000);
  service.start();
  let id = 0;
  for (let round = 1; round <= 5; round++) {
    for (let i = 0; i < 7; i++) ring.push(idRecord(++id));
    await advance(clock, service, 5999);
    assert.equal(cloud.stored.length, round - 1, `no round before 6 s (round ${round})`);
    await advance(clock, service, 1);
    assert.equal(cloud.stored.length, round, `round ${round} at 6 s`);
    assert.equal(ring.counters().pending, 0);
  }
  assert.equal(service.status().rounds, 5);
});

test("schedule: fractional intervals work (250 ms and 0.5 ms)", async () => {
  for (const intervalMs of [250, 0.5]) {
    const { clock, service } = setup({ intervalMs });
    service.start();
    for (let i = 0; i < 40; i++) await advance(clock, service, intervalMs);
    assert.equal(service.status().rounds, 40, `interval ${intervalMs}`);
  }
});

test("schedule: sync_disabled stops scheduled rounds while data keeps accumulating; syncNow still works", async () => {
  const { clock, cloud, service, ring } = setup({ intervalMs: 1000 });
  service.start();
  service.apply({ disabled: true });
  for (let i = 1; i <= 100; i++) {
    ring.push(idRecord(i));
    await advance(clock, service, 1000);
  }
  assert.equal(cloud.attempts.length, 0, "no upload while disabled");
  assert.equal(ring.counters().pending, 100, "capture kept filling the ring");
  assert.equal(service.status().state, "disabled");
  assert.ok(Number.isNaN(service.status().nextRoundInMs));
  const manual = await service.syncNow();
  assert.ok(manual.ok);
  assert.equal(manual.records, 100);
  ring.push(idRecord(101));
  service.apply({ disabled: false });
  await advance(clock, service, 1000);
  assert.equal(ring.counters().pending, 0, "re-enabled: scheduled rounds resume");
});

test("schedule: changing the interval at runtime takes effect without a restart", async () => {
  const { clock, service } = setup({ intervalMs: 60_000 });
  service.start();
  await advance(clock, service, 10_000);
  service.apply({ intervalMs: 2_000 });
  await advance(clock, service, 0);
  assert.equal(service.status().rounds, 1, "10 s already passed: the 2 s interval is overdue, round now");
  await advance(clock, service, 2_000);
  assert.equal(service.status().rounds, 2);
  assert.throws(() => service.apply({ intervalMs: 0 }), "positive");
  assert.throws(() => service.apply({ intervalMs: Number.NaN }), "positive");
  assert.equal(service.status().settings.intervalMs, 2_000, "a bad value leaves the running setting");
});

test("backoff schedule with a fake clock: 200 ms doubling to the one-hour cap, hourly after, reset on recovery", async () => {
  const { clock, cloud, service, ring } = setup({ intervalMs: 6000 }, 0.1);
  service.start();
  let down = true;
  cloud.fault = () => (down ? "refused" : "ok");
  let id = 0;
  ring.push(idRecord(++id));
  await advance(clock, service, 6000);
  assert.equal(cloud.attempts.length, 1);
  const waits: number[] = [];
  // 15 doublings reach the cap; 6 more hourly tries: ~7.8 hours of simulated time.
  for (let i = 0; i < 21; i++) {
    const status = service.status();
    assert.equal(status.state, "backing-off");
    waits.push(status.nextRoundInMs);
    ring.push(idRecord(++id)); // capture continues during the outage
    await advance(clock, service, status.nextRoundInMs - 1);
    assert.equal(cloud.attempts.length, i + 1, "no retry before the backoff wait is over");
    await advance(clock, service, 1);
    assert.equal(cloud.attempts.length, i + 2, "retry exactly when the wait is over");
  }
  for (let i = 0; i < waits.length; i++) {
    const nominal = Math.min(200 * 2 ** i, 3_600_000);
    assert.ok(waits[i]! <= nominal && waits[i]! > nominal * 0.9, `wait ${i}: ${waits[i]} vs ${nominal}`);
  }
  assert.ok(clock.monotonic() > 7 * 3_600_000, "hours of simulated time");
  assert.equal(ring.counters().pending, id, "nothing was lost or committed during the outage");
  down = false;
  await advance(clock, service, service.status().nextRoundInMs);
  const status = service.status();
  assert.equal(status.state, "idle");
  assert.equal(status.backoffMs, 0);
  assert.equal(status.consecutiveFailures, 0);
  assert.equal(status.nextRoundInMs, 6000, "back on the sync interval");
  assert.equal(ring.counters().pending, 0);
  assert.deepEqual(
    cloud.idsOf("s"),
    Array.from({ length: id }, (_, i) => i + 1),
  );
  assert.ok(status.lastError?.reason.includes("refused"));
  // The next failure starts from the first interval again.
  down = true;
  ring.push(idRecord(++id));
  await advance(clock, service, 6000);
  assert.ok(service.status().nextRoundInMs <= 200 && service.status().nextRoundInMs > 180);
});

test("a failure the cloud answered skips only that collector; a dead link (two transport failures) ends the round for all", async () => {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log: silentLogger,
    backoff: { jitter: 0 },
  });
  const rings = ["a", "b", "c"].map((k) => new MemoryRing(k));
  for (const ring of rings) for (let i = 1; i <= 5; i++) ring.push(idRecord(i));
  service.setTargets(rings.map((r) => binaryTarget(r)));
  cloud.fault = (request) => (request.component === "a" ? "internal" : "ok");
  const answered = await service.syncNow();
  assert.equal(answered.ok, false);
  assert.deepEqual(
    rings.map((r) => r.counters().pending),
    [5, 0, 0],
    "b and c delivered despite a's INTERNAL",
  );
  let status = service.status();
  assert.equal(status.transportFailures, 0, "an answered failure is not the link's");
  assert.equal(status.collectors.a!.consecutiveFailures, 1);
  assert.equal(status.collectors.b!.consecutiveFailures, 0);
  for (const ring of rings) ring.push(idRecord(6));
  const attempts = cloud.attempts.length;
  cloud.fault = () => "reset";
  const dropped = await service.syncNow();
  assert.equal(dropped.ok, false);
  assert.equal(
    cloud.attempts.length,
    attempts + 2,
    "a second transport failure in a row confirms the link is down: no more tries this round",
  );
  status = service.status();
  assert.equal(status.transportFailures, 1);
  assert.equal(status.consecutiveFailures, 1);
  assert.equal(status.backoffMs, 200, "the link's backoff is reported while it is down");
  assert.equal(status.state, "backing-off");
  assert.deepEqual(
    rings.map((r) => r.counters().pending),
    [6, 1, 1],
  );
});

test("a round is finite while capture keeps appending during it", async () => {
  const { cloud, service, ring } = setup();
  let id = 0;
  for (let i = 0; i < 50; i++) ring.push(idRecord(++id));
  cloud.onRequest = () => {
    for (let i = 0; i < 100; i++) ring.push(idRecord(++id));
  };
  const result = await service.syncNow();
  assert.ok(result.ok);
  assert.ok(result.records >= 50 && result.records < id, `round uploaded ${result.records} of ${id}`);
});

test("status snapshot: per-collector counters, last success, last error, current backoff", async () => {
  const { clock, cloud, service, ring } = setup();
  clock.setWall(1_700_000_000_000);
  for (let i = 1; i <= 10; i++) ring.push(idRecord(i));
  await service.syncNow();
  let status = service.status();
  assert.equal(status.collectors.s!.synced, 10);
  assert.equal(status.lastSuccessWall, 1_700_000_000_000);
  assert.equal(status.lastError, null);
  clock.advance(5000);
  cloud.fault = () => "unavailable";
  ring.push(idRecord(11));
  await service.syncNow();
  status = service.status();
  assert.equal(status.lastError!.code, 14);
  assert.equal(status.lastError!.key, "s");
  assert.equal(status.lastError!.atWall, 1_700_000_005_000);
  assert.equal(status.backoffMs, 200);
  assert.equal(status.collectors.s!.failures, 1);
  await service.close();
  assert.equal(service.status().state, "closed");
  assert.equal((await service.syncNow()).ok, false);
});
