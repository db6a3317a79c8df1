// The uploader's narrowing, request by request, with what it logs: a rejected chunk is halved down
// to the bad record (set aside once the cloud takes what follows it); a request refused as too large
// lowers the collector's request cap; undecodable and oversized records are set aside with a reason.
// Pinned transcripts: a change to the bisection order or a log line shows here.

import { StepFailure } from "../../modules/sync/chunk-uploader";
import { SyncService } from "../../modules/sync/sync-service";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryRing } from "../support/memory-store";
import {
  binaryTarget,
  clockValid,
  idRecord,
  NEEDS_CLOCK_MARK,
  ScriptedCloud,
  scriptedService,
  UNDECODABLE_MARK,
} from "../support/sync-fakes";

function setup() {
  const { cloud, service, logs } = scriptedService({ requestBudgetBytes: 4096, maxRequestBytes: 8192 });
  const ring = new MemoryRing("r");
  return { cloud, service, logs, ring };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

test("a rejected chunk is halved down to the bad record; the rest goes out once, the record is set aside", async () => {
  const { cloud, service, logs, ring } = setup();
  for (let i = 1; i <= 20; i++) ring.push(idRecord(i, 12));
  cloud.fault = (q) => (q.ids.includes(7) ? "invalid" : "ok");
  service.setTargets([binaryTarget(ring)]);
  const result = await service.syncNow();
  assert.deepEqual(result, { ok: true, records: 19, requests: 6 });
  assert.deepEqual(
    cloud.attempts.map((a) => a.ids),
    [
      range(1, 20),
      range(1, 10),
      range(1, 5),
      range(6, 15),
      range(6, 10),
      [6, 7, 8],
      [6, 7],
      [6],
      [7, 8],
      [7],
      [8],
      [9, 10],
      range(11, 14),
      range(15, 20),
    ],
  );
  assert.deepEqual(
    cloud.idsOf("r"),
    range(1, 20).filter((i) => i !== 7),
  );
  const why = "(INVALID_ARGUMENT: bad reading)";
  assert.deepEqual(logs, [
    `warn sync r: cloud rejected 20 records ${why}; retrying the first 10 alone`,
    `warn sync r: cloud rejected 10 records ${why}; retrying the first 5 alone`,
    `warn sync r: cloud rejected 10 records ${why}; retrying the first 5 alone`,
    `warn sync r: cloud rejected 5 records ${why}; retrying the first 3 alone`,
    `warn sync r: cloud rejected 3 records ${why}; retrying the first 2 alone`,
    `warn sync r: cloud rejected 2 records ${why}; retrying the first 1 alone`,
    `warn sync r: cloud rejected 2 records ${why}; retrying the first 1 alone`,
    `warn sync r: record seq 7 refused alone ${why}; set aside only if the cloud accepts the records after it`,
    `error sync r: record seq 7 set aside (1 reading(s)): cloud refused them ${why} and accepted the records after them`,
  ]);
  const c = service.status().collectors.r!;
  assert.equal(c.rejected, 1);
  assert.equal(c.failures, 8);
  assert.equal(c.consecutiveFailures, 0);
  assert.equal(ring.counters().pending, 0);
});

test("a request refused as too large lowers the request cap until one goes through", async () => {
  const { cloud, service, logs, ring } = setup();
  for (let i = 1; i <= 20; i++) ring.push(idRecord(i, 12));
  cloud.fault = (q) => (q.ids.length > 3 ? "too-large" : "ok");
  service.setTargets([binaryTarget(ring)]);
  const result = await service.syncNow();
  assert.deepEqual(result, { ok: true, records: 20, requests: 20 });
  assert.deepEqual(
    cloud.attempts.slice(0, 4).map((a) => a.ids),
    [range(1, 20), range(1, 9), range(1, 4), [1]],
  );
  assert.deepEqual(cloud.idsOf("r"), range(1, 20));
  const why = "(RESOURCE_EXHAUSTED: request too large)";
  assert.deepEqual(logs, [
    `warn sync r: cloud refused a request of 20 records as too large ${why}; requests now carry at most 160 bytes of readings`,
    `warn sync r: cloud refused a request of 9 records as too large ${why}; requests now carry at most 72 bytes of readings`,
    `warn sync r: cloud refused a request of 4 records as too large ${why}; requests now carry at most 32 bytes of readings`,
  ]);
  const c = service.status().collectors.r!;
  assert.equal(c.failures, 3);
  assert.equal(c.tooLarge, 0, "nothing set aside: every record fits alone");
});

test("undecodable and oversized records are set aside with their reason; the others go out", async () => {
  const { cloud, service, logs, ring } = setup();
  for (let i = 1; i <= 6; i++) {
    const record = idRecord(i, i === 5 ? 9000 : 8);
    if (i === 3) record[0] = UNDECODABLE_MARK;
    ring.push(record);
  }
  service.setTargets([binaryTarget(ring)]);
  assert.deepEqual(await service.syncNow(), { ok: true, records: 6, requests: 2 });
  assert.deepEqual(
    cloud.attempts.map((a) => a.ids),
    [[1, 2, 4], [6]],
  );
  assert.deepEqual(logs, [
    "error sync r: 1 reading(s) set aside: record not decodable",
    "error sync r: 1 reading(s) set aside: record larger than one request alone (maxRequestBytes, or the request buffer of upload_budget_kb)",
  ]);
  const c = service.status().collectors.r!;
  assert.equal(c.undecodable, 1);
  assert.equal(c.oversized, 1);
  assert.equal(c.synced, 4);
});

test("a ring replaced while its request is out: an accepted chunk commits neither ring, a refusal is ignored", async () => {
  for (const fault of ["ok", "invalid"] as const) {
    const { cloud, service, logs, ring } = setup();
    for (let i = 1; i <= 10; i++) ring.push(idRecord(i, 12));
    const replacement = new MemoryRing("r");
    for (let i = 101; i <= 105; i++) replacement.push(idRecord(i, 12));
    service.setTargets([binaryTarget(ring)]);
    cloud.fault = () => (cloud.attempts.length === 1 ? fault : "ok");
    cloud.onRequest = () => {
      if (cloud.attempts.length === 1) service.setTargets([binaryTarget(replacement)]);
    };
    await service.syncNow();
    assert.equal(ring.syncPoint, 0, `${fault}: the old ring is not committed`);
    assert.equal(replacement.syncPoint, 5, `${fault}: the replacement uploads from its own start`);
    assert.deepEqual(cloud.attempts[1]!.ids, range(101, 105));
    const c = service.status().collectors.r!;
    assert.equal(c.rejected, 0);
    if (fault === "ok") {
      assert.deepEqual(logs, ["warn sync r: ring replaced during the upload; nothing committed"]);
      assert.equal(c.synced, 15, "the cloud has both chunks");
    } else {
      assert.deepEqual(logs, [
        "warn sync r: ring replaced during the upload; its refusal (INVALID_ARGUMENT: bad reading) is ignored",
      ]);
      assert.equal(c.synced, 5);
    }
  }
});

test("a record's readings count for what the target says (at least 1, 1 if counting throws) when set aside", async () => {
  const { service, ring } = setup();
  for (let i = 1; i <= 4; i++) ring.push(Object.assign(idRecord(i, 8), { 0: UNDECODABLE_MARK, 1: i }));
  const target = binaryTarget(ring);
  target.countReadings = (record) => {
    if (record[1] === 3) throw new Error("cannot count");
    return record[1] === 4 ? 0 : 5;
  };
  service.setTargets([target]);
  assert.ok((await service.syncNow()).ok);
  // 5 + 5 + 1 (throws) + 1 (0 counts as 1)
  assert.equal(service.status().collectors.r!.undecodable, 12);
  assert.equal(ring.counters().pending, 0);
});

test("failures below gRPC (an RpcError from the transport, a TransportError by name) are the link's, not the collector's", async () => {
  const errors: unknown[] = [
    Object.assign(new Error("UNAVAILABLE: reset"), { transport: "reset" }),
    Object.assign(new Error("socket closed"), { name: "TransportError" }),
  ];
  for (const error of errors) {
    const { service, ring } = setup();
    ring.push(idRecord(1));
    const sender = {
      send: async () => {
        throw error;
      },
    };
    const s = new SyncService({
      sender,
      clock: new FakeClock(),
      timers: new FakeClock(),
      log: { info() {}, warn() {}, error() {} },
      backoff: { jitter: 0 },
    });
    s.setTargets([binaryTarget(ring)]);
    await s.syncNow();
    assert.equal(s.status().transportFailures, 1, `${(error as Error).message}: the link backs off`);
    assert.equal(s.status().collectors.r!.consecutiveFailures, 0, "the collector is not charged");
    void service;
  }
  // A plain failure with neither mark is the collector's own.
  const { ring } = setup();
  ring.push(idRecord(1));
  const s = new SyncService({
    sender: {
      send: async () => {
        throw "no";
      },
    },
    clock: new FakeClock(),
    timers: new FakeClock(),
    log: { info() {}, warn() {}, error() {} },
    backoff: { jitter: 0 },
  });
  s.setTargets([binaryTarget(ring)]);
  await s.syncNow();
  assert.equal(s.status().transportFailures, 0);
  assert.equal(s.status().collectors.r!.consecutiveFailures, 1);
});

/** A ring that hands back a different chunk when asked again for the bytes a request kept. */
class RereadRing extends MemoryRing {
  mode: "fewer" | "null" | "more" = "fewer";
  private calls = 0;
  override read(budgetBytes: number, afterSeq?: number) {
    // A first read ignores the budget and hands back everything: the request then keeps a prefix
    // and the uploader reads again for just the bytes it kept.
    if (++this.calls % 2 === 1) return super.read(Number.POSITIVE_INFINITY, afterSeq);
    const chunk = super.read(budgetBytes, afterSeq);
    if (chunk === null) return chunk;
    if (this.mode === "null") return null;
    if (this.mode === "more") return super.read(budgetBytes * 4, afterSeq);
    const records = chunk.records.slice(0, Math.max(1, chunk.records.length - 1));
    const bytes = records.reduce((n, r) => n + r.length, 0);
    return { records, firstSeq: chunk.firstSeq, lastSeq: chunk.firstSeq + records.length - 1, bytes };
  }
}

test("a store that re-reads a different prefix: what it returns is what goes out and is committed", async () => {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const logs: string[] = [];
  const log = { info: () => {}, warn: (m: string) => logs.push(`warn ${m}`), error: () => {} };
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log,
    settings: { requestBudgetBytes: 200, maxRequestBytes: 8192 },
    backoff: { jitter: 0 },
  });
  const ring = new RereadRing("r");
  for (let i = 1; i <= 40; i++) ring.push(idRecord(i, 30));
  service.setTargets([binaryTarget(ring)]);
  assert.ok((await service.syncNow()).ok);
  // Every record exactly once, in order, whatever prefix the store handed back.
  assert.deepEqual(cloud.idsOf("r"), range(1, 40));
  assert.ok(cloud.stored.length > 8, `${cloud.stored.length} requests`);
  assert.equal(ring.counters().pending, 0);
  assert.deepEqual(logs, []);
  // A store whose re-read finds nothing: the step ends empty, nothing sent or committed.
  ring.mode = "null";
  for (let i = 41; i <= 60; i++) ring.push(idRecord(i, 30));
  const sent = cloud.attempts.length;
  assert.ok((await service.syncNow()).ok, "an empty re-read is no fault");
  assert.equal(service.status().collectors.r!.localFaults, 0);
  assert.equal(cloud.attempts.length, sent);
  assert.equal(ring.syncPoint, 40);
});

test("a store that re-reads more than can be encoded: nothing is sent past it, the step waits and says why", async () => {
  const { cloud, service, logs } = setup();
  const ring = new RereadRing("r");
  ring.mode = "more";
  for (let i = 1; i <= 40; i++) ring.push(idRecord(i, 30));
  // The request budget cuts the first chunk; the re-read returns more, and record 30 cannot be placed yet.
  clockValid.value = false;
  try {
    ring.push(Object.assign(idRecord(41, 30), { 0: NEEDS_CLOCK_MARK }));
    const target = binaryTarget(ring);
    service.setTargets([target]);
    await service.syncNow();
  } finally {
    clockValid.value = true;
  }
  assert.equal(ring.syncPoint, cloud.idsOf("r").length, "only what was sent is committed");
  void logs;
});

test("a record the target writes with no readings still goes out; StepFailure names itself", async () => {
  const { cloud, service, ring } = setup();
  for (let i = 1; i <= 3; i++) ring.push(idRecord(i, 8));
  const target = binaryTarget(ring);
  const write = target.writeSensorContents;
  target.writeSensorContents = (record, w) => {
    write(record, w);
    return record[3] === 2 ? 0 : 1;
  };
  service.setTargets([target]);
  assert.deepEqual(await service.syncNow(), { ok: true, records: 3, requests: 1 });
  assert.deepEqual(cloud.idsOf("r"), [1, 2, 3]);
  assert.equal(service.status().collectors.r!.synced, 2, "readings, not records");
  const e = new StepFailure({ kind: "transient", code: 14, reason: "x" }, true);
  assert.equal(e.name, "StepFailure");
  assert.equal(e.message, "x");
  assert.equal(e.rejectedAll, false);
  assert.equal(e.connection, true);
});
