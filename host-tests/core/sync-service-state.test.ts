// The sync service's schedule and status as the device sees them (next round, state, worst backoff),
// the request count a round returns, and what it logs and reports for local faults and a dead link:
// cases the mutation run (npm run mutation sync) found unguarded.
import type { Ring } from "../../modules/storage/types";
import { SyncService, validateSettings } from "../../modules/sync/sync-service";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryRing } from "../support/memory-store";
import {
  binaryTarget,
  type Fault,
  idRecord,
  type ReceivedRequest,
  ScriptedCloud,
  scriptedService,
  settle,
} from "../support/sync-fakes";

function setup(keys: string[] = ["s"], settings: { intervalMs?: number; disabled?: boolean } = {}) {
  const { clock, cloud, service, logs } = scriptedService({ requestBudgetBytes: 200, ...settings });
  const rings = keys.map((k) => new MemoryRing(k));
  service.setTargets(rings.map((r) => binaryTarget(r)));
  return { clock, cloud, service, rings, logs };
}

async function advance(clock: FakeClock, service: SyncService, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
  await service.idle();
  await settle();
}

test("status: the next round is one interval after start, re-timed by a new interval, gone when disabled or closed", async () => {
  const { clock, service, rings } = setup(["s"], { intervalMs: 1000 });
  assert.ok(Number.isNaN(service.status().nextRoundInMs), "not started: nothing scheduled");
  assert.equal(service.status().state, "idle");
  service.start();
  assert.equal(service.status().nextRoundInMs, 1000);
  // A second start changes nothing.
  clock.advance(300);
  service.start();
  assert.equal(service.status().nextRoundInMs, 700);
  // New targets while started keep the round where it was.
  service.setTargets([binaryTarget(rings[0]!), binaryTarget(new MemoryRing("t"))]);
  assert.equal(service.status().nextRoundInMs, 700);
  // A new interval counts from the last round's end (here: the service's creation).
  service.apply({ intervalMs: 5000 });
  assert.equal(service.status().nextRoundInMs, 4700);
  // The same interval again leaves the schedule alone.
  clock.advance(200);
  service.apply({ intervalMs: 5000 });
  assert.equal(service.status().nextRoundInMs, 4500);
  service.apply({ disabled: true });
  assert.equal(service.status().state, "disabled");
  assert.ok(Number.isNaN(service.status().nextRoundInMs), "disabled: nothing scheduled");
  service.apply({ disabled: false });
  assert.equal(service.status().state, "idle");
  assert.equal(service.status().nextRoundInMs, 4500);
  await advance(clock, service, 4500);
  assert.equal(service.status().rounds, 1);
  assert.equal(service.status().nextRoundInMs, 5000, "the next interval counts from this round");
  await service.close();
  assert.equal(service.status().state, "closed");
  assert.ok(Number.isNaN(service.status().nextRoundInMs));
  // Nothing revives a closed service.
  service.start();
  service.apply({ intervalMs: 100 });
  service.setTargets([binaryTarget(rings[0]!)]);
  assert.ok(Number.isNaN(service.status().nextRoundInMs));
  await advance(clock, service, 60_000);
  assert.equal(service.status().rounds, 1);
  assert.deepEqual(await service.syncNow(), { ok: false, records: 0, requests: 0 });
});

test("setTargets before start schedules nothing; after start a round still comes at the interval", async () => {
  const { clock, cloud, service, rings } = setup(["s"], { intervalMs: 1000 });
  rings[0]!.push(idRecord(1));
  service.setTargets([binaryTarget(rings[0]!)]);
  await advance(clock, service, 5000);
  assert.equal(cloud.stored.length, 0);
  assert.ok(Number.isNaN(service.status().nextRoundInMs));
  service.start();
  await advance(clock, service, 999);
  assert.equal(cloud.stored.length, 0);
  await advance(clock, service, 1);
  assert.deepEqual(cloud.idsOf("s"), [1]);
});

test("a round returns how many requests the cloud took, and the status names the most-failing collector's backoff", async () => {
  const { clock, cloud, service, rings } = setup(["a", "b", "c"], { intervalMs: 1000 });
  let id = 0;
  for (const ring of rings) for (let i = 0; i < 30; i++) ring.push(idRecord(++id, 40));
  // b fails every time, c only at its second request.
  const seen = new Map<string, number>();
  cloud.fault = (request: ReceivedRequest): Fault => {
    const n = (seen.get(request.component) ?? 0) + 1;
    seen.set(request.component, n);
    if (request.component === "b") return "internal";
    if (request.component === "c" && n === 2) return "internal";
    return "ok";
  };
  const first = await service.syncNow();
  assert.equal(first.ok, false);
  assert.equal(first.requests, cloud.stored.length, "every request the cloud took in the round is counted");
  assert.ok(first.requests >= 4 && cloud.attempts.length > first.requests, `${first.requests} requests`);
  assert.equal(
    first.records,
    cloud.stored.reduce((n, r) => n + r.ids.length, 0),
  );
  // b and c both failed once: equal backoffs.
  let status = service.status();
  assert.equal(status.state, "backing-off");
  assert.equal(status.consecutiveFailures, 1);
  service.start();
  // At their retry b fails again, c gets through.
  await advance(clock, service, status.collectors.b!.backoffMs);
  status = service.status();
  assert.equal(status.collectors.b!.consecutiveFailures, 2);
  assert.equal(status.collectors.c!.consecutiveFailures, 0);
  assert.equal(status.state, "backing-off");
  assert.equal(status.consecutiveFailures, 2, "the worst collector's failures");
  assert.equal(status.backoffMs, status.collectors.b!.backoffMs);
  assert.equal(status.transportFailures, 0);
});

test("a local fault (the store throws) is reported with its message, whatever was thrown", async () => {
  for (const [thrown, shown] of [
    [new Error("flash read failed"), "flash read failed"],
    ["code 7", "code 7"],
    [undefined, "undefined"],
  ] as const) {
    const { service, rings } = setup(["s"]);
    const ring = rings[0]!;
    ring.push(idRecord(1));
    const faulty: Ring = Object.create(ring);
    faulty.read = () => {
      throw thrown;
    };
    service.setTargets([binaryTarget(faulty, "s")]);
    const result = await service.syncNow();
    assert.equal(result.ok, false);
    assert.equal(result.error?.reason, `local fault: ${shown}`);
    assert.equal(service.status().lastError?.key, "s");
    assert.equal(service.status().collectors.s!.localFaults, 1);
  }
});

test("a dead link is logged with the failing collector and reason; its recovery is logged once", async () => {
  const { clock, cloud, service, rings, logs } = setup(["s"], { intervalMs: 1000 });
  rings[0]!.push(idRecord(1));
  cloud.fault = () => "refused";
  service.start();
  await advance(clock, service, 1000);
  const down = logs.filter((l) => l.includes("no answer from the cloud"));
  assert.equal(down.length, 1, logs.join("\n"));
  assert.ok(
    /\(s: UNAVAILABLE: refused: connect ECONNREFUSED\); every collector retries in \d+ ms \(failure 1\)/.test(
      down[0]!,
    ),
    down[0],
  );
  assert.equal(service.status().transportFailures, 1);
  assert.equal(service.status().state, "backing-off");
  cloud.fault = () => "ok";
  await advance(clock, service, service.status().nextRoundInMs);
  assert.deepEqual(cloud.idsOf("s"), [1]);
  assert.deepEqual(
    logs.filter((l) => l.includes("answers again")),
    ["info sync: the cloud answers again after 1 failed round(s)"],
  );
  assert.equal(service.status().transportFailures, 0);
  assert.equal(service.status().state, "idle");
});

test("a round serves each collector what it had pending at the start, taking turns request by request", async () => {
  const { cloud, service, rings } = setup(["a", "b"]);
  const [a, b] = rings as [MemoryRing, MemoryRing];
  let id = 0;
  for (let i = 0; i < 12; i++) a.push(idRecord(++id, 40));
  for (let i = 0; i < 12; i++) b.push(idRecord(1000 + i, 40));
  // Capture keeps appending to a during the round.
  cloud.onRequest = (request) => {
    if (request.component === "a") a.push(idRecord(++id, 40));
  };
  const result = await service.syncNow();
  assert.ok(result.ok);
  const order = cloud.stored.map((r) => r.component);
  assert.ok(order.length >= 4, order.join(","));
  // Turns alternate while both have quota left.
  for (let i = 0; i + 1 < order.length && i < 4; i += 2)
    assert.notEqual(order[i], order[i + 1], order.join(","));
  // a got no more than its 12 starting records (plus what shared their last request), b all 12.
  const fromA = cloud.idsOf("a");
  assert.ok(
    fromA.length >= 12 && fromA.length < 12 + cloud.stored.filter((r) => r.component === "a").length,
    `${fromA.length}`,
  );
  assert.equal(result.records, fromA.length + 12);
  assert.ok(a.counters().pending > 0, "what capture added late waits for the next round");
  assert.equal(b.counters().pending, 0);
});

test("a collector whose target is not ready is skipped until it is", async () => {
  const { cloud, service, rings } = setup(["a", "b"]);
  rings[0]!.push(idRecord(1));
  rings[1]!.push(idRecord(2));
  let ready = false;
  const target = binaryTarget(rings[0]!);
  target.ready = () => ready;
  service.setTargets([target, binaryTarget(rings[1]!)]);
  assert.ok((await service.syncNow()).ok);
  assert.deepEqual(cloud.idsOf("a"), []);
  assert.deepEqual(cloud.idsOf("b"), [2]);
  ready = true;
  await service.syncNow();
  assert.deepEqual(cloud.idsOf("a"), [1]);
});

test("settings: each limit is checked with a clear error; the smallest valid values are accepted", () => {
  const base = {
    intervalMs: 1000,
    disabled: false,
    requestBudgetBytes: 100,
    maxRequestBytes: 100,
    maxStallMs: 1,
  };
  assert.deepEqual(validateSettings({ ...base, requestBudgetBytes: 1, maxRequestBytes: 1 }), {
    ...base,
    requestBudgetBytes: 1,
    maxRequestBytes: 1,
  });
  assert.equal(validateSettings({ ...base, disabled: 1 as unknown as boolean }).disabled, true);
  const bad: [Partial<typeof base>, string][] = [
    [{ intervalMs: 0 }, "sync interval must be a positive number of ms, got 0"],
    [{ intervalMs: Number.POSITIVE_INFINITY }, "sync interval must be a positive number of ms, got Infinity"],
    [{ requestBudgetBytes: 0.5 }, "sync request budget must be ≥ 1 byte, got 0.5"],
    [{ requestBudgetBytes: Number.NaN }, "sync request budget must be ≥ 1 byte, got NaN"],
    [
      { requestBudgetBytes: Number.POSITIVE_INFINITY, maxRequestBytes: Number.POSITIVE_INFINITY },
      "sync request budget must be ≥ 1 byte, got Infinity",
    ],
    [{ maxRequestBytes: 99 }, "sync maxRequestBytes must be ≥ the request budget, got 99"],
    [
      { maxRequestBytes: Number.POSITIVE_INFINITY },
      "sync maxRequestBytes must be ≥ the request budget, got Infinity",
    ],
    [{ maxStallMs: 0 }, "sync maxStallMs must be > 0, got 0"],
    [{ maxStallMs: Number.NaN }, "sync maxStallMs must be > 0, got NaN"],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => validateSettings({ ...base, ...change }), message, JSON.stringify(change));
  }
});

test("a collector's recovery after failures is logged once with how many it had", async () => {
  const { cloud, service, rings, logs } = setup(["s"]);
  rings[0]!.push(idRecord(1));
  cloud.fault = () => "internal";
  await service.syncNow();
  await service.syncNow();
  cloud.fault = () => "ok";
  await service.syncNow();
  assert.deepEqual(
    logs.filter((l) => l.includes("recovered")),
    ["info sync s: recovered after 2 failure(s)"],
  );
  rings[0]!.push(idRecord(2));
  await service.syncNow();
  assert.equal(
    logs.filter((l) => l.includes("recovered")).length,
    1,
    "a healthy collector's upload logs nothing",
  );
});

test("a local fault of the only collector is its own failure, never the link's", async () => {
  const { service, rings } = setup(["s"]);
  const ring = rings[0]!;
  ring.push(idRecord(1));
  const faulty: Ring = Object.create(ring);
  faulty.read = () => {
    throw new Error("flash read failed");
  };
  service.setTargets([binaryTarget(faulty, "s")]);
  await service.syncNow();
  const status = service.status();
  assert.equal(status.transportFailures, 0);
  assert.equal(status.collectors.s!.consecutiveFailures, 1);
  assert.equal(status.lastError?.code, 2, "UNKNOWN");
});

test("schedule: with every collector backing off only retries are due; a new healthy collector brings the interval round back", async () => {
  const { clock, cloud, service, rings } = setup(["s"], { intervalMs: 1000 });
  rings[0]!.push(idRecord(1));
  cloud.fault = () => "internal";
  service.start();
  // Fail until the collector's own wait (200 ms doubling) is past the interval.
  for (let i = 0; i < 5; i++) await advance(clock, service, service.status().nextRoundInMs);
  const wait = service.status().collectors.s!.backoffMs;
  assert.ok(wait > 1000, `backoff ${wait}`);
  assert.equal(service.status().nextRoundInMs, wait, "only the retry is due");
  const fresh = new MemoryRing("t");
  fresh.push(idRecord(2));
  service.setTargets([binaryTarget(rings[0]!), binaryTarget(fresh)]);
  const next = service.status().nextRoundInMs;
  assert.ok(next <= 1000, `the interval round is due again: ${next}`);
  await advance(clock, service, next);
  assert.deepEqual(cloud.idsOf("t"), []);
  cloud.fault = (q) => (q.component === "s" ? "internal" : "ok");
  await advance(clock, service, service.status().nextRoundInMs);
  assert.deepEqual(cloud.idsOf("t"), [2]);
});

test("schedule: a started service with no collectors still keeps its interval", async () => {
  const clock = new FakeClock();
  const service = new SyncService({
    sender: new ScriptedCloud(),
    clock,
    timers: clock,
    log: { info() {}, warn() {}, error() {} },
    settings: { intervalMs: 750 },
  });
  service.start();
  assert.equal(service.status().nextRoundInMs, 750);
  await advance(clock, service, 750);
  assert.equal(service.status().rounds, 1);
  assert.equal(service.status().nextRoundInMs, 750);
});
