// One bad collector must not hurt the others (issue 12): per-collector backoff,
// transport failures told apart from a chunk that kills the connection, local
// faults confined to their collector's turn, too-large requests shrunk, a
// rejection bound to the ring it was read from, mass rejection kept, not set aside.
// Fake time throughout (multi-hour runs take well under a second).
import { type Logger, silentLogger } from "../../modules/ports";
import { Code, RpcError } from "../../modules/rpc/status";
import { MAX_SUSPECTS } from "../../modules/sync/chunk-uploader";
import { SyncService } from "../../modules/sync/sync-service";
import type { SyncTarget } from "../../modules/sync/target";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryRing } from "../support/memory-store";
import {
  binaryTarget,
  decodeRequest,
  type Fault,
  idRecord,
  ScriptedCloud,
  settle,
} from "../support/sync-fakes";

const INTERVAL_MS = 6_000;
const HOUR = 3_600_000;
/**
 * Length of the long runs: 6 h in Node (SYNC_ISOLATION_HOURS overrides; the mutation run uses 2,
 * see stryker/sync.config.mjs). The XS lane runs 2 h: beyond ~4000 awaited steps in one test
 * the xsnap worker dies with "stack overflow" (the same code at 2 h passes; not investigated).
 */
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
const HOURS = Number(env ? (env.SYNC_ISOLATION_HOURS ?? 6) : 2);

/** Tries a collector failing from `firstAt` makes by `end` (waits 200 ms doubling, capped at an hour, no jitter). */
function triesBy(firstAt: number, end: number): number {
  let t = firstAt;
  let n = 0;
  while (t <= end) {
    t += Math.min(200 * 2 ** n, HOUR);
    n++;
  }
  return n;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

class Lines implements Logger {
  readonly lines: string[] = [];
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
}

function setup(keys: string[], settings: { requestBudgetBytes?: number; maxRequestBytes?: number } = {}) {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const log = new Lines();
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log,
    settings: { intervalMs: INTERVAL_MS, ...settings },
    backoff: { jitter: 0 },
  });
  const rings = keys.map((k) => new MemoryRing(k));
  service.setTargets(rings.map((r) => binaryTarget(r)));
  return { clock, cloud, service, rings, log };
}

/**
 * Run `ms` of fake time: every `captureEveryMs` each ring gets one record, and
 * the clock stops at each sync round's due time so the round runs at that instant.
 */
async function run(
  clock: FakeClock,
  service: SyncService,
  rings: MemoryRing[],
  ms: number,
  ids: Map<string, number>,
  captureEveryMs = 6_000,
): Promise<void> {
  const end = clock.monotonic() + ms;
  // Captures fall mid-interval, never at the instant a round starts.
  let nextCapture = (Math.floor(clock.monotonic() / captureEveryMs) + 0.5) * captureEveryMs;
  if (nextCapture <= clock.monotonic()) nextCapture += captureEveryMs;
  while (clock.monotonic() < end) {
    const due = service.status().nextRoundInMs;
    let target = Math.min(end, nextCapture);
    if (Number.isFinite(due)) target = Math.min(target, clock.monotonic() + due);
    clock.advance(target - clock.monotonic());
    if (clock.monotonic() >= nextCapture) {
      for (const ring of rings) {
        const id = (ids.get(ring.key) ?? 0) + 1;
        ids.set(ring.key, id);
        ring.push(idRecord(id));
      }
      nextCapture += captureEveryMs;
    }
    // A round the step started is running on microtasks: wait it out (and its rescheduling) before time moves on.
    await service.idle();
    await settle(3);
  }
}

test("isolation: a collector whose uploads keep failing (INTERNAL for it only) backs off alone; the healthy one uploads every interval for hours", async () => {
  const { clock, cloud, service, rings } = setup(["healthy", "bad"]);
  const badTimes: number[] = [];
  const healthyTimes: number[] = [];
  cloud.fault = (request) => (request.component === "bad" ? "internal" : "ok");
  cloud.onRequest = (request) =>
    (request.component === "bad" ? badTimes : healthyTimes).push(clock.monotonic());
  service.start();
  const ids = new Map<string, number>();
  await run(clock, service, rings, HOURS * HOUR, ids);
  const [healthy, bad] = rings;
  // Every interval a request, each carrying the reading of that interval: no backlog ever builds.
  assert.equal(healthyTimes.length, (HOURS * HOUR) / INTERVAL_MS, "one upload per 6 s interval");
  for (let i = 1; i < healthyTimes.length; i++) {
    assert.equal(healthyTimes[i]! - healthyTimes[i - 1]!, INTERVAL_MS, `upload ${i} on the interval`);
  }
  assert.ok(healthy!.counters().pending <= 1, `healthy backlog ${healthy!.counters().pending}`);
  assert.deepEqual(cloud.idsOf("healthy"), range(1, ids.get("healthy")! - healthy!.counters().pending));
  // The bad collector: its own schedule, 200 ms doubling up to an hour, then hourly.
  const gaps = badTimes.slice(1).map((t, i) => t - badTimes[i]!);
  for (let i = 0; i < gaps.length; i++) {
    assert.equal(gaps[i], Math.min(200 * 2 ** i, HOUR), `bad retry ${i + 1}`);
  }
  assert.equal(badTimes.length, triesBy(INTERVAL_MS, HOURS * HOUR), "tries of the failing collector");
  assert.equal(bad!.counters().pending, ids.get("bad"), "the failing collector kept every reading");
  const status = service.status();
  assert.equal(status.transportFailures, 0);
  assert.equal(status.collectors.bad!.consecutiveFailures, badTimes.length);
  assert.equal(status.collectors.bad!.backoffMs, HOUR);
  assert.equal(status.collectors.healthy!.consecutiveFailures, 0);
  assert.equal(status.state, "backing-off");
  // Recovery: the bad collector's next retry drains it and it is back on the interval.
  cloud.fault = () => "ok";
  await run(clock, service, rings, HOUR, ids);
  assert.ok(bad!.counters().pending <= 1);
  assert.equal(service.status().collectors.bad!.consecutiveFailures, 0);
  assert.deepEqual(cloud.idsOf("bad"), range(1, ids.get("bad")! - bad!.counters().pending));
});

test("isolation: a request too large for the server (for one collector only) does not hold the other back", async () => {
  const { clock, cloud, service, rings } = setup(["small", "big"], { requestBudgetBytes: 4096 });
  // The server takes requests of at most 600 bytes: "big" (one 700-byte record) can never pass.
  cloud.fault = (request) => (request.bytes > 600 ? "too-large" : "ok");
  rings[1]!.push(idRecord(1, 700));
  service.start();
  const ids = new Map<string, number>([["big", 1]]);
  await run(clock, service, [rings[0]!], HOUR, ids);
  assert.equal(cloud.idsOf("small").length, ids.get("small")! - rings[0]!.counters().pending);
  assert.ok(rings[0]!.counters().pending <= 1);
  // A lone record refused as too large is a suspect with nothing after it: kept, waiting.
  assert.equal(rings[1]!.counters().pending, 1);
  assert.equal(service.status().collectors.big!.tooLarge, 0);
});

test("isolation: a connection refused for everyone still backs every collector off together (one shared wait)", async () => {
  const { clock, cloud, service, rings } = setup(["a", "b", "c"]);
  cloud.fault = () => "refused";
  service.start();
  const ids = new Map<string, number>();
  const times: number[] = [];
  cloud.onRequest = () => times.push(clock.monotonic());
  await run(clock, service, rings, 2 * HOUR, ids);
  // Each round: one failure, then a second one that confirms the link is down.
  const rounds = new Set(times).size;
  assert.equal(times.length, rounds * 2, "two tries per round, then the round ends");
  const starts = [...new Set(times)];
  for (let i = 1; i < starts.length; i++) {
    assert.equal(starts[i]! - starts[i - 1]!, Math.min(200 * 2 ** (i - 1), HOUR), `shared wait ${i}`);
  }
  const status = service.status();
  assert.equal(status.transportFailures, starts.length);
  for (const key of ["a", "b", "c"]) assert.equal(status.collectors[key]!.consecutiveFailures, 0);
  for (const ring of rings) assert.equal(ring.counters().pending, ids.get(ring.key));
});

test("isolation: a chunk that kills the connection ends only its collector's turn; collectors after it still upload", async () => {
  const { clock, cloud, service, rings } = setup(["first", "killer", "last"]);
  cloud.fault = (request) => (request.component === "killer" ? "reset" : "ok");
  service.start();
  const ids = new Map<string, number>();
  await run(clock, service, rings, HOURS * HOUR, ids);
  for (const ring of [rings[0]!, rings[2]!]) {
    assert.ok(ring.counters().pending <= 1, `${ring.key} backlog ${ring.counters().pending}`);
    assert.deepEqual(cloud.idsOf(ring.key), range(1, ids.get(ring.key)! - ring.counters().pending));
  }
  const status = service.status();
  assert.equal(status.transportFailures, 0, "the link answered the others: not a link failure");
  assert.equal(
    status.collectors.killer!.consecutiveFailures,
    triesBy(INTERVAL_MS, HOURS * HOUR),
    "the killer backs off alone, on its own schedule",
  );
  assert.equal(rings[1]!.counters().pending, ids.get("killer"));
});

test("isolation: when the killer is the last turn, the link answered earlier in the round: still its own failure; turn order rotates", async () => {
  const { cloud, service, rings } = setup(["a", "b"]);
  for (const ring of rings) for (let i = 1; i <= 3; i++) ring.push(idRecord(i));
  const order: string[] = [];
  cloud.onRequest = (request) => order.push(request.component);
  cloud.fault = (request) => (request.component === "b" ? "reset" : "ok");
  await service.syncNow();
  assert.equal(service.status().transportFailures, 0);
  assert.equal(service.status().collectors.b!.consecutiveFailures, 1);
  for (const ring of rings) ring.push(idRecord(4));
  await service.syncNow();
  assert.deepEqual(order, ["a", "b", "b", "a"], "the second round starts with the other collector");
  // b went first in round 2 and nothing after it answered... but a did: b charged again, link fine.
  assert.equal(service.status().collectors.b!.consecutiveFailures, 2);
  assert.equal(service.status().transportFailures, 0);
});

/** A ring whose reads can be made to throw (a flash read error). */
class FaultyRing extends MemoryRing {
  failReads = false;
  override read(budgetBytes: number, afterSeq?: number) {
    if (this.failReads) throw new Error("flash read error (injected)");
    return super.read(budgetBytes, afterSeq);
  }
}

test("isolation: a local exception (flash read error, out of memory while encoding) is a counted, logged fault of that collector, retried with backoff", async () => {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const log = new Lines();
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log,
    settings: { intervalMs: INTERVAL_MS },
    backoff: { jitter: 0 },
  });
  const flashBad = new FaultyRing("flash-bad");
  const oomBad = new MemoryRing("oom-bad");
  const fine = new MemoryRing("fine");
  const oomTarget: SyncTarget = {
    ...binaryTarget(oomBad),
    metadata: () => {
      throw new RangeError("out of memory while encoding (injected)");
    },
  };
  service.setTargets([binaryTarget(flashBad), oomTarget, binaryTarget(fine)]);
  flashBad.failReads = true;
  service.start();
  const ids = new Map<string, number>();
  await run(clock, service, [flashBad, oomBad, fine], 2 * HOUR, ids);
  assert.ok(fine.counters().pending <= 1);
  assert.deepEqual(cloud.idsOf("fine"), range(1, ids.get("fine")! - fine.counters().pending));
  const status = service.status();
  for (const key of ["flash-bad", "oom-bad"]) {
    const c = status.collectors[key]!;
    assert.ok(c.localFaults >= 15, `${key}: ${c.localFaults} faults counted`);
    assert.equal(c.localFaults, c.failures);
    assert.equal(c.consecutiveFailures, c.localFaults, "every fault grows its backoff");
    assert.equal(c.backoffMs, HOUR);
  }
  assert.ok(log.lines.some((l) => l.includes("flash-bad") && l.includes("flash read error")));
  assert.ok(log.lines.some((l) => l.includes("oom-bad") && l.includes("out of memory")));
  assert.equal(status.lastError!.reason.startsWith("local fault"), true);
  // The flash recovers: the next retry drains the ring, nothing was lost.
  flashBad.failReads = false;
  await run(clock, service, [flashBad, oomBad, fine], HOUR + 10_000, ids);
  assert.equal(service.status().collectors["flash-bad"]!.consecutiveFailures, 0);
  assert.deepEqual(cloud.idsOf("flash-bad"), range(1, ids.get("flash-bad")! - flashBad.counters().pending));
});

for (const fault of ["too-large", "http-413"] as const) {
  test(`too large (${fault}): the request is halved down to one record, then the record is set aside once its neighbours pass`, async () => {
    const { cloud, service, rings, log } = setup(["r"], { requestBudgetBytes: 8192 });
    const ring = rings[0]!;
    for (let i = 1; i <= 200; i++) ring.push(idRecord(i, i === 150 ? 1200 : 20));
    // The server takes requests of at most 1000 bytes: record 150 can never pass.
    cloud.fault = (request) => (request.bytes > 1000 ? fault : "ok");
    const sizes: number[] = [];
    cloud.onRequest = (request) => sizes.push(request.bytes);
    let result = await service.syncNow();
    assert.ok(result.ok, "too-large is no failure of the collector");
    assert.deepEqual(
      cloud.idsOf("r"),
      range(1, 200).filter((i) => i !== 150),
    );
    assert.equal(ring.counters().pending, 0);
    const c = service.status().collectors.r!;
    assert.equal(c.tooLarge, 1);
    assert.equal(c.rejected, 0);
    // Halving: each refused size is followed by one no larger than half of it (never the same size again).
    for (let i = 1; i < sizes.length; i++) {
      if (sizes[i - 1]! > 1000 && cloud.attempts[i - 1]!.ids.length > 1)
        assert.ok(sizes[i]! <= sizes[i - 1]! / 2 + 40, `request ${i}: ${sizes[i]} after ${sizes[i - 1]}`);
    }
    assert.ok(cloud.attempts.length < 40, `${cloud.attempts.length} requests`);
    assert.ok(log.lines.some((l) => l.startsWith("error") && l.includes("seq 150 set aside")));
    // The learned cap holds: the next backlog goes out in requests the server takes, first time.
    for (let i = 201; i <= 300; i++) ring.push(idRecord(i, 20));
    const before = cloud.attempts.length;
    result = await service.syncNow();
    assert.ok(result.ok);
    assert.ok(
      cloud.attempts.slice(before).every((a) => a.bytes <= 1000),
      "no refused request after learning",
    );
    assert.deepEqual(cloud.idsOf("r").slice(-100), range(201, 300));
  });
}

test("too large with RESOURCE_EXHAUSTED for everything (a quota): nothing is set aside, the collector backs off", async () => {
  const { cloud, service, rings, log } = setup(["q"]);
  const ring = rings[0]!;
  for (let i = 1; i <= 500; i++) ring.push(idRecord(i, 16));
  cloud.fault = () => "too-large";
  const result = await service.syncNow();
  assert.equal(result.ok, false);
  assert.equal(ring.counters().pending, 500, "every reading kept");
  const c = service.status().collectors.q!;
  assert.equal(c.tooLarge + c.rejected, 0);
  assert.equal(c.rejectedAll, 1);
  assert.equal(c.consecutiveFailures, 1);
  assert.ok(log.lines.some((l) => l.startsWith("error") && l.includes("accepted nothing")));
});

test("mass rejection: the cloud rejects every request with INVALID_ARGUMENT; 500 readings are kept, counted rejectedAll, backed off", async () => {
  const { clock, cloud, service, rings, log } = setup(["m"]);
  const ring = rings[0]!;
  for (let i = 1; i <= 500; i++) ring.push(idRecord(i, 16));
  cloud.fault = () => "invalid";
  service.start();
  const ids = new Map<string, number>([["m", 500]]);
  await run(clock, service, [], 3 * HOUR, ids);
  const c = service.status().collectors.m!;
  assert.equal(ring.counters().pending, 500, "nothing discarded");
  assert.equal(c.rejected, 0);
  assert.ok(c.rejectedAll >= 10, `rejectedAll ${c.rejectedAll}`);
  assert.equal(c.consecutiveFailures, c.rejectedAll, "each mass rejection is a failure of the collector");
  assert.ok(
    cloud.attempts.length <= c.rejectedAll * (MAX_SUSPECTS + 12),
    `bounded requests per try: ${cloud.attempts.length}`,
  );
  assert.ok(log.lines.some((l) => l.startsWith("error") && l.includes("rejecting everything")));
  // The cloud is fixed: everything goes out, once, in order.
  cloud.fault = () => "ok";
  await run(clock, service, [], HOUR + 1, ids);
  assert.deepEqual(cloud.idsOf("m"), range(1, 500));
  assert.equal(service.status().collectors.m!.rejected, 0);
});

test("rejections: a run of bad records shorter than the limit is set aside once the next record passes", async () => {
  const { cloud, service, rings } = setup(["r"]);
  const ring = rings[0]!;
  for (let i = 1; i <= 100; i++) ring.push(idRecord(i, 12));
  const bad = new Set([1, 2, 3, 50, 51, 52, 53, 54, 55, 56]); // 3 at the very start, 7 in a row (limit 8)
  cloud.fault = (request) => (request.ids.some((id) => bad.has(id)) ? "invalid" : "ok");
  const result = await service.syncNow();
  assert.ok(result.ok);
  assert.deepEqual(
    cloud.idsOf("r"),
    range(1, 100).filter((i) => !bad.has(i)),
  );
  assert.equal(service.status().collectors.r!.rejected, bad.size);
  assert.equal(ring.counters().pending, 0);
});

test("rejections: a last record refused alone waits (kept) for a record after it, without re-sending it", async () => {
  const { cloud, service, rings } = setup(["r"]);
  const ring = rings[0]!;
  for (let i = 1; i <= 5; i++) ring.push(idRecord(i, 12));
  cloud.fault = (request) => (request.ids.includes(5) ? "invalid" : "ok");
  await service.syncNow();
  assert.equal(ring.counters().pending, 1, "record 5 kept");
  const attempts = cloud.attempts.length;
  await service.syncNow();
  assert.equal(cloud.attempts.length, attempts, "nothing re-sent while nothing follows it");
  ring.push(idRecord(6, 12));
  await service.syncNow();
  assert.deepEqual(cloud.idsOf("r"), [1, 2, 3, 4, 6]);
  assert.equal(service.status().collectors.r!.rejected, 1);
  assert.equal(ring.counters().pending, 0);
});

/** A sender whose answer the test releases by hand. */
class HeldCloud {
  readonly requests: Uint8Array[] = [];
  private release: ((fault: Fault) => void) | undefined;
  async send(body: Uint8Array): Promise<void> {
    this.requests.push(body.slice());
    const fault = await new Promise<Fault>((resolve) => {
      this.release = resolve;
    });
    if (fault === "invalid") throw new RpcError(Code.INVALID_ARGUMENT, "bad reading");
  }
  answer(fault: Fault): void {
    this.release?.(fault);
  }
}

for (const answer of ["invalid", "ok"] as const) {
  test(`reconfigure: an answer (${answer}) arriving after the ring was replaced never commits the replacement's sync point`, async () => {
    const clock = new FakeClock();
    const cloud = new HeldCloud();
    const service = new SyncService({
      sender: cloud,
      clock,
      timers: clock,
      log: silentLogger,
      backoff: { jitter: 0 },
    });
    const old = new MemoryRing("k");
    old.push(idRecord(1, 12));
    service.setTargets([binaryTarget(old)]);
    const round = service.syncNow();
    await settle();
    assert.equal(cloud.requests.length, 1);
    // The reconfigure: same key, a new ring holding 40 records the cloud never saw.
    const replacement = new MemoryRing("k");
    for (let i = 1; i <= 40; i++) replacement.push(idRecord(100 + i, 12));
    service.setTargets([binaryTarget(replacement)]);
    cloud.answer(answer);
    // The round goes on with the replacement: every later request is acknowledged.
    const done = round.then(() => true);
    for (let i = 0; i < 20; i++) {
      await settle();
      cloud.answer("ok");
    }
    assert.ok(await done);
    assert.equal(old.syncPoint, 0, "the old ring is not touched after its replacement");
    assert.equal(service.status().collectors.k!.rejected, 0, "nothing set aside on the replacement's behalf");
    // Every record of the replacement the sync point moved past was in a request sent after the swap.
    const sent = cloud.requests.slice(1).flatMap((body) => decodeRequest(body).ids);
    assert.deepEqual(sent, range(101, 140));
    assert.equal(replacement.syncPoint, 40);
  });
}

test("isolation: when every collector is in its own backoff, only their retries are scheduled (no empty interval rounds)", async () => {
  const { clock, cloud, service, rings } = setup(["a", "b"]);
  cloud.fault = () => "internal";
  for (const ring of rings) ring.push(idRecord(1));
  service.start();
  const ids = new Map<string, number>([
    ["a", 1],
    ["b", 1],
  ]);
  await run(clock, service, [], HOUR, ids);
  const status = service.status();
  // Both fail together at 6 s and retry together: every round is a retry, none an empty interval round.
  assert.equal(status.rounds, triesBy(INTERVAL_MS, HOUR));
  assert.equal(status.failedRounds, status.rounds);
  assert.ok(Number.isNaN(status.lastSuccessMonotonic), "no round counted as a success");
  assert.ok(
    status.nextRoundInMs > INTERVAL_MS,
    `next round in ${status.nextRoundInMs} ms: the retry, not the interval`,
  );
});
