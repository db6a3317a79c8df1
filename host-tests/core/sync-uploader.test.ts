import { SyncService } from "../../modules/sync/sync-service";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
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

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function setup(budget = 1024, maxRequest = 8192) {
  return scriptedService({ requestBudgetBytes: budget, maxRequestBytes: maxRequest });
}

test("uploader: drains every ring in order within the request budget, committing after each ack", async () => {
  const { cloud, service } = setup(1000);
  const rings = [new MemoryRing("a"), new MemoryRing("b"), new MemoryRing("c")];
  const random = new Random(3);
  const sizes = new Map<number, number>();
  for (const [r, ring] of rings.entries()) {
    for (let i = 1; i <= 300; i++) {
      const id = r * 10_000 + i;
      const size = 8 + random.int(60);
      sizes.set(id, size);
      ring.push(idRecord(id, size));
    }
  }
  service.setTargets(rings.map((ring) => binaryTarget(ring)));
  cloud.onRequest = (request) => {
    // The sync point has not moved for this request yet: it moves only after the ack.
    const ring = rings.find((r) => r.key === request.component)!;
    assert.ok(ring.syncPoint < request.ids.length + ring.syncPoint);
    assert.equal(
      ring.read(1)!.records[0]![3],
      request.ids[0]! & 0xff,
      "first unacked record is the request's first",
    );
  };
  const result = await service.syncNow();
  assert.ok(result.ok);
  assert.equal(result.records, 900);
  for (const [r, ring] of rings.entries()) {
    assert.deepEqual(
      cloud.idsOf(ring.key),
      range(1, 300).map((i) => r * 10_000 + i),
    );
    assert.equal(ring.counters().pending, 0);
    assert.equal(ring.syncPoint, 300);
  }
  for (const ring of rings) {
    const requests = cloud.stored.filter((q) => q.component === ring.key);
    for (const [i, request] of requests.entries()) {
      // Each SensorData here costs record + 4 bytes (two tags, two lengths); the budget is 1000.
      const sensorBytes = request.ids.reduce((n, id) => n + sizes.get(id)! + 4, 0);
      assert.ok(sensorBytes <= 1000, `request of ${sensorBytes} sensor bytes`);
      // The ring's tail is whatever is left; every other request is nearly full.
      if (i < requests.length - 1)
        assert.ok(sensorBytes > 850, `request of ${sensorBytes} bytes is needlessly small`);
    }
  }
  const status = service.status();
  assert.equal(status.collectors.a!.synced, 300);
  assert.equal(status.collectors.a!.requests, cloud.stored.filter((q) => q.component === "a").length);
});

test("uploader: the sync point never moves on a failed send, and the same chunk is retried", async () => {
  const { cloud, service } = setup(200);
  const ring = new MemoryRing("a");
  for (let i = 1; i <= 50; i++) ring.push(idRecord(i, 16));
  service.setTargets([binaryTarget(ring)]);
  cloud.fault = (_r, attempt) => (attempt === 3 ? "unavailable" : "ok");
  const first = await service.syncNow();
  assert.equal(first.ok, false);
  const committed = ring.syncPoint;
  assert.equal(committed, cloud.idsOf("a").length);
  const failed = cloud.attempts[2]!;
  assert.equal(failed.ids[0], committed + 1, "failed chunk starts right after the sync point");
  const second = await service.syncNow();
  assert.ok(second.ok);
  assert.deepEqual(cloud.attempts[3]!.ids, failed.ids, "retry sends the same chunk");
  assert.deepEqual(cloud.idsOf("a"), range(1, 50));
});

test("uploader: a record larger than the budget travels alone; one larger than the request ceiling is set aside", async () => {
  const { cloud, service, logs } = setup(256, 2048);
  const ring = new MemoryRing("big");
  ring.push(
    idRecord(1, 20),
    idRecord(2, 20),
    idRecord(3, 1000),
    idRecord(4, 20),
    idRecord(5, 5000),
    idRecord(6, 20),
  );
  service.setTargets([binaryTarget(ring)]);
  const result = await service.syncNow();
  assert.ok(result.ok);
  assert.deepEqual(
    cloud.stored.map((r) => r.ids),
    [[1, 2], [3], [4], [6]],
  );
  assert.equal(ring.counters().pending, 0);
  assert.equal(service.status().collectors.big!.oversized, 1);
  assert.ok(logs.some((l) => l.startsWith("error") && l.includes("maxRequestBytes")));
});

test("uploader: a chunk the cloud rejects is narrowed down to the bad record, which alone is set aside", async () => {
  const { cloud, service, logs } = setup(4096);
  const ring = new MemoryRing("r");
  for (let i = 1; i <= 1000; i++) ring.push(idRecord(i, 12));
  service.setTargets([binaryTarget(ring)]);
  cloud.fault = (request) => (request.ids.includes(77) || request.ids.includes(150) ? "invalid" : "ok");
  const result = await service.syncNow();
  assert.ok(result.ok, "rejections are not transient failures");
  const expected = range(1, 1000).filter((i) => i !== 77 && i !== 150);
  assert.deepEqual(cloud.idsOf("r"), expected, "every good record delivered once, in order");
  assert.equal(service.status().collectors.r!.rejected, 2);
  assert.equal(ring.counters().pending, 0);
  assert.ok(cloud.attempts.length < 60, `narrowing is logarithmic, took ${cloud.attempts.length} requests`);
  assert.ok(logs.some((l) => l.includes("seq 77 set aside")));
  // Past the bad region (the first chunk, ~250 records) the full budget is used again.
  const later = cloud.stored.find((r) => r.ids.includes(600))!;
  assert.ok(later.ids.length > 200, `a later request carried ${later.ids.length} records`);
});

test("uploader: an undecodable record is set aside and its neighbours still go out", async () => {
  const { cloud, service } = setup(4096);
  const ring = new MemoryRing("u");
  for (let i = 1; i <= 30; i++) {
    const record = idRecord(i, 8);
    if (i === 10 || i === 11) record[0] = UNDECODABLE_MARK;
    ring.push(record);
  }
  ring.push(Object.assign(idRecord(31, 8), { 0: UNDECODABLE_MARK }));
  service.setTargets([binaryTarget(ring)]);
  assert.ok((await service.syncNow()).ok);
  assert.deepEqual(
    cloud.idsOf("u"),
    range(1, 30).filter((i) => i !== 10 && i !== 11),
  );
  assert.equal(service.status().collectors.u!.undecodable, 3);
  assert.equal(ring.counters().pending, 0, "a chunk of only undecodable records is passed without a request");
});

test("uploader: ack lost after the cloud stored a chunk yields exactly that chunk twice, nothing else", async () => {
  const { cloud, service } = setup(160);
  const ring = new MemoryRing("d");
  for (let i = 1; i <= 100; i++) ring.push(idRecord(i, 16));
  service.setTargets([binaryTarget(ring)]);
  cloud.fault = (_r, attempt) => (attempt === 4 ? "ack-lost" : "ok");
  assert.equal((await service.syncNow()).ok, false);
  assert.ok((await service.syncNow()).ok);
  const ids = cloud.idsOf("d");
  const lostChunk = cloud.attempts[3]!.ids;
  const unique = new Set(ids);
  assert.equal(unique.size, 100, "every record arrived");
  assert.equal(ids.length, 100 + lostChunk.length, "only the ack-lost chunk is duplicated");
});

test("uploader: interrupted at 33% resumes at the first unacknowledged chunk", async () => {
  const { cloud, service } = setup(400);
  const ring = new MemoryRing("big-backlog");
  for (let i = 1; i <= 600; i++) ring.push(idRecord(i, 16));
  service.setTargets([binaryTarget(ring)]);
  let outage = false;
  cloud.fault = () => (outage ? "refused" : "ok");
  cloud.onRequest = () => {
    if (cloud.stored.length >= 1 && cloud.idsOf("big-backlog").length >= 200) outage = true;
  };
  assert.equal((await service.syncNow()).ok, false);
  const delivered = cloud.idsOf("big-backlog").length;
  assert.ok(delivered >= 200 && delivered < 260, `about a third delivered (${delivered})`);
  assert.equal(ring.syncPoint, delivered);
  const attemptsBefore = cloud.attempts.length;
  outage = false;
  cloud.onRequest = undefined;
  assert.ok((await service.syncNow()).ok);
  assert.equal(cloud.attempts[attemptsBefore]!.ids[0], delivered + 1, "resumes right after the last ack");
  assert.deepEqual(cloud.idsOf("big-backlog"), range(1, 600), "no duplicate, no gap");
});

test("uploader: a record whose times wait for the wall clock holds its ring there, then goes out in order", async () => {
  const { cloud, service } = setup(4096);
  const ring = new MemoryRing("w");
  for (let i = 1; i <= 20; i++) {
    const record = idRecord(i, 8);
    if (i >= 8 && i <= 12) record[0] = NEEDS_CLOCK_MARK;
    ring.push(record);
  }
  service.setTargets([binaryTarget(ring)]);
  clockValid.value = false;
  try {
    assert.ok((await service.syncNow()).ok, "waiting is not a failure");
    assert.deepEqual(
      cloud.idsOf("w").map((id) => id & 0xffffff),
      range(1, 7),
    );
    assert.equal(ring.syncPoint, 7, "the sync point stops before the waiting record");
    assert.ok((await service.syncNow()).ok);
    assert.equal(ring.syncPoint, 7, "still waiting, nothing skipped");
  } finally {
    clockValid.value = true;
  }
  assert.ok((await service.syncNow()).ok);
  assert.equal(ring.syncPoint, 20);
  assert.equal(cloud.idsOf("w").length, 20);
  assert.deepEqual(
    cloud
      .idsOf("w")
      .slice(7, 12)
      .map((id) => id & 0xffffff),
    range(8, 12),
  );
});

test("uploader: a sender with a zero-copy framed path gets the request after 5 bytes of header room", async () => {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const frames: number[] = [];
  const framed = Object.assign(cloud, {
    async sendFramed(frame: Uint8Array) {
      frames.push(frame.length);
      for (let i = 0; i < 5; i++) frame[i] = 0xaa; // the sender owns the room (its frame header)
      await cloud.send(frame.subarray(5));
    },
  });
  const service = new SyncService({
    sender: framed,
    clock,
    timers: clock,
    log: { info() {}, warn() {}, error() {} },
  });
  const ring = new MemoryRing("f");
  for (let i = 1; i <= 40; i++) ring.push(idRecord(i, 20));
  service.setTargets([binaryTarget(ring)]);
  assert.ok((await service.syncNow()).ok);
  assert.deepEqual(cloud.idsOf("f"), range(1, 40));
  const counters = service.status().collectors.f!;
  assert.equal(frames.length, counters.requests);
  assert.equal(
    counters.bytesSent,
    frames.reduce((n, f) => n + f - 5, 0),
    "bytesSent counts the request only",
  );
});

test("uploader: on a slow CPU a request is closed at the stall limit, so the sampler is never frozen longer", async () => {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log: { info() {}, warn() {}, error() {} },
    settings: { maxStallMs: 10 },
  });
  const ring = new MemoryRing("slow");
  for (let i = 1; i <= 300; i++) ring.push(idRecord(i, 16));
  const fast = binaryTarget(ring);
  // Each record costs 1 ms of CPU (the fake clock moves without firing timers, like a busy core).
  service.setTargets([
    {
      ...fast,
      writeSensorContents(record, w) {
        clock.stall(1);
        return fast.writeSensorContents(record, w);
      },
    },
  ]);
  assert.ok((await service.syncNow()).ok);
  assert.deepEqual(cloud.idsOf("slow"), range(1, 300), "everything delivered, in order");
  for (const request of cloud.stored)
    assert.ok(request.ids.length <= 11, `a request of ${request.ids.length} records`);
  // After the first request the reads are sized from the measured rate: no re-read needed.
  assert.ok(
    ring.count.reads <= cloud.stored.length + 3,
    `${ring.count.reads} reads for ${cloud.stored.length} requests`,
  );
});
