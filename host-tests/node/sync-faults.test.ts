// Each fault mode of the local cloud, over real loopback HTTP: the device keeps
// capturing, backs off on the documented schedule (200 ms doubling, capped at
// one hour, checked with a fake clock), and after recovery the cloud holds
// every reading exactly once, except duplicates from requests the cloud stored
// but whose answer never arrived (ack lost, or stored after the deadline), which
// are counted and bounded here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "../../modules/rpc/status";
import { Rig, type Rig as RigType, range, settingsFor } from "../support/sync-rig";

const COLLECTORS = [
  { name: "air", type: "sensor", hz: 0.2, sectors: 32 },
  { name: "axle", type: "encoder", hz: 0.1, sectors: 16 },
] as const;

/** 200 ms · 2^i up to one hour (jitter off in these tests: exact). */
function nominal(i: number): number {
  return Math.min(200 * 2 ** i, 3_600_000);
}

interface Outcome {
  duplicates: number;
  /** Readings the cloud stored while the fault was armed (from the uploads table). */
  storedDuringFault: number;
  reauthentications: number;
  failedRounds: number;
  captured: number;
}

/**
 * Run normally, break the cloud with `arm`, go through 18 failed rounds
 * (past the one-hour cap), repair with `disarm`, drain, and check the cloud.
 */
async function outage(
  name: string,
  arm: (rig: RigType) => void | Promise<void>,
  disarm: (rig: RigType) => void | Promise<void>,
  options: { timeoutMs?: number; mayDuplicate?: boolean; failing?: boolean } = {},
): Promise<Outcome> {
  const rig = await new Rig({ timeoutMs: options.timeoutMs ?? 2_000, flashBytes: 256 * 1024 }).start();
  try {
    // Slow collectors batch a minute of readings per block, so hours of outage fit the rings.
    const manager = rig.boot(settingsFor([...COLLECTORS], { flush_interval_secs: 60 }));
    await rig.run(130_000);
    const before = manager.status();
    assert.equal(before.sync.failedRounds, 0, `${name}: healthy before the fault`);
    assert.ok(
      before.collectors.every((c) => c.synced > 0),
      `${name}: data flowing before the fault`,
    );

    const uploadsBefore = lastUploadId(rig);
    await arm(rig);
    const waits: number[] = [];
    const failing = options.failing ?? true;
    for (let i = 0; i < 18; i++) {
      await rig.nextRound();
      let sync = manager.status().sync;
      if (!failing) {
        assert.equal(sync.consecutiveFailures, 0, `${name}: round ${i} should succeed`);
        await arm(rig);
        continue;
      }
      // Each collector backs off on its own: rounds of a collector with nothing pending yet may
      // come in between. Go on to the round that fails next (bounded: an hour of 6 s rounds).
      for (let guard = 0; sync.consecutiveFailures === i && guard < 700; guard++) {
        await rig.nextRound();
        sync = manager.status().sync;
      }
      assert.equal(sync.consecutiveFailures, i + 1, `${name}: round ${i} failed`);
      assert.equal(sync.state, "backing-off");
      waits.push(sync.backoffMs);
    }
    if (failing) {
      assert.deepEqual(
        waits,
        waits.map((_, i) => nominal(i)),
        `${name}: backoff 200 ms doubling, then hourly`,
      );
      assert.equal(waits.at(-1), 3_600_000);
      assert.ok(manager.status().sync.lastError !== null, `${name}: last error reported`);
    }
    // Capture never stopped: hours of readings wait in flash.
    const during = manager.status();
    for (const c of COLLECTORS) {
      const s = during.collectors.find((x) => x.componentName === c.name)!;
      assert.equal(s.captured, rig.counters.of(c.name), `${name}: ${c.name} kept capturing`);
      if (failing) assert.ok(s.inFlash > c.hz * 3600, `${name}: ${c.name} has ${s.inFlash} readings waiting`);
      assert.equal(s.dropped, 0, `${name}: rings sized for the outage`);
    }

    const storedDuringFault = readingsStoredAfter(rig, uploadsBefore);
    await disarm(rig);
    // Every collector recovers at its own next retry, at most an hour away.
    const repaired = rig.clock.monotonic();
    for (let guard = 0; manager.status().sync.consecutiveFailures > 0 && guard < 700; guard++) {
      await rig.nextRound();
    }
    assert.ok(rig.clock.monotonic() - repaired <= 3_600_000, `${name}: recovered within the hourly retry`);
    assert.equal(manager.status().sync.consecutiveFailures, 0, `${name}: recovered`);
    assert.equal(manager.status().sync.backoffMs, 0, `${name}: backoff reset`);
    assert.equal(manager.status().sync.nextRoundInMs, 6_000, `${name}: back on the sync interval`);
    await rig.run(130_000);
    await manager.syncNow();

    let duplicates = 0;
    for (const c of COLLECTORS) {
      const values = rig.cloudValues(c.name);
      const captured = rig.counters.of(c.name);
      const unique = [...new Set(values)].sort((a, b) => a - b);
      assert.deepEqual(unique, range(1, captured), `${name}: ${c.name}: every reading arrived`);
      duplicates += values.length - unique.length;
      if (!options.mayDuplicate) {
        assert.deepEqual(values, range(1, captured), `${name}: ${c.name}: exactly once, in order`);
      }
      const s = manager.status().collectors.find((x) => x.componentName === c.name)!;
      assert.equal(s.pending, 0);
      assert.equal(s.synced, captured, `${name}: device counts every reading synced once`);
    }
    if (!options.mayDuplicate && failing)
      assert.equal(storedDuringFault, 0, `${name}: nothing stored while failing`);
    return {
      duplicates,
      storedDuringFault,
      reauthentications: rig.client.counters.reauthentications,
      failedRounds: manager.status().sync.failedRounds,
      captured: rig.counters.of("air"),
    };
  } finally {
    await rig.stop();
  }
}

function lastUploadId(rig: RigType): number {
  const row = rig.cloud.store.db.prepare("SELECT COALESCE(MAX(id), 0) AS id FROM uploads").get() as {
    id: number;
  };
  return row.id;
}

function readingsStoredAfter(rig: RigType, uploadId: number): number {
  const row = rig.cloud.store.db
    .prepare("SELECT COALESCE(SUM(reading_count), 0) AS n FROM uploads WHERE id > ?")
    .get(uploadId) as { n: number };
  return row.n;
}

const UPLOAD = "DataCaptureUpload" as const;
const forever = 1_000_000;

test("fault: connection refused", async () => {
  await outage(
    "refused",
    (rig) => rig.cloud.refuse(),
    (rig) => rig.cloud.accept(),
  );
});

test("fault: connection reset mid-request", async () => {
  await outage(
    "reset",
    (rig) => void rig.cloud.faults.add({ kind: "reset", method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
  );
});

test("fault: UNAVAILABLE", async () => {
  await outage(
    "unavailable",
    (rig) =>
      void rig.cloud.faults.add({ kind: "status", code: Code.UNAVAILABLE, method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
  );
});

test("fault: INTERNAL", async () => {
  await outage(
    "internal",
    (rig) =>
      void rig.cloud.faults.add({ kind: "status", code: Code.INTERNAL, method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
  );
});

test("fault: slow past the deadline (the cloud stores late: duplicates possible, counted)", async () => {
  // No race with machine speed: the healthy phases run with a 30 s deadline; during the fault
  // the deadline is 150 ms and the cloud answers after 5 s, so every request times out
  // (the client's timer is armed before the cloud's, in the same event loop), however loaded.
  const outcome = await outage(
    "slow",
    (rig) => {
      rig.setDeadline(150);
      rig.cloud.faults.add({ kind: "delay", ms: 5_000, method: UPLOAD, times: forever });
    },
    (rig) => {
      rig.cloud.faults.clear();
      rig.setDeadline(30_000);
    },
    { timeoutMs: 30_000, mayDuplicate: true },
  );
  assert.ok(
    outcome.duplicates <= outcome.storedDuringFault,
    "duplicates only from requests stored after their deadline",
  );
  console.log(
    `slow: ${outcome.duplicates} duplicate readings after ${outcome.failedRounds} timed-out rounds`,
  );
});

test("fault: token expired (re-authenticates transparently, no backoff)", async () => {
  const outcome = await outage(
    "token expired",
    (rig) => rig.cloud.expireTokens(),
    () => undefined,
    { failing: false },
  );
  // Most 6 s rounds find nothing new (blocks flush every 60 s), so not every round uses the token.
  assert.ok(outcome.reauthentications >= 3, `re-authenticated ${outcome.reauthentications} times`);
});

test("fault: token expired and re-authentication unavailable", async () => {
  await outage(
    "token expired, auth down",
    (rig) => {
      rig.cloud.expireTokens();
      rig.cloud.faults.add({
        kind: "status",
        code: Code.UNAVAILABLE,
        method: "Authenticate",
        times: forever,
      });
    },
    (rig) => rig.cloud.faults.clear(),
  );
});

for (const variant of ["garbage", "truncated", "huge-length", "bad-proto", "no-status"] as const) {
  test(`fault: malformed response (${variant})`, async () => {
    await outage(
      `malformed ${variant}`,
      (rig) => void rig.cloud.faults.add({ kind: "malformed", variant, method: UPLOAD, times: forever }),
      (rig) => rig.cloud.faults.clear(),
    );
  });
}

test("fault: oversized response", async () => {
  await outage(
    "oversized",
    (rig) => void rig.cloud.faults.add({ kind: "oversized", bytes: 1 << 20, method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
  );
});

test("fault: ack lost (stored, answer dropped): only the re-sent chunk is duplicated, and it is counted", async () => {
  const outcome = await outage(
    "ack-lost",
    (rig) => void rig.cloud.faults.add({ kind: "ack-lost", method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
    { mayDuplicate: true },
  );
  assert.ok(outcome.duplicates > 0, "ack loss after storing does duplicate (the documented window)");
  assert.equal(
    outcome.duplicates,
    outcome.storedDuringFault,
    "the only duplicates are the readings of requests whose answer was lost, each re-sent once",
  );
  console.log(
    `ack-lost: ${outcome.duplicates} duplicate readings over ${outcome.failedRounds} ack-lost rounds`,
  );
});

test("fault: response cut mid-body after the cloud stored the upload: counted like an ack loss", async () => {
  const outcome = await outage(
    "cut-response",
    (rig) => void rig.cloud.faults.add({ kind: "cut-response", method: UPLOAD, times: forever }),
    (rig) => rig.cloud.faults.clear(),
    { mayDuplicate: true },
  );
  assert.equal(
    outcome.duplicates,
    outcome.storedDuringFault,
    "each cut answer re-sends its chunk exactly once",
  );
});

test("fault: INVALID_ARGUMENT rejections never block the ring: the culprit is narrowed down and set aside, counted", async () => {
  const rig = await new Rig().start();
  try {
    const manager = rig.boot(
      settingsFor([{ name: "r", type: "sensor", hz: 20 }], { flush_interval_secs: 1 }),
    );
    await rig.run(30_000);
    // The next 6 uploads are rejected as bad content: a 30 s backlog is bisected down to one block.
    rig.cloud.faults.add({ kind: "status", code: Code.INVALID_ARGUMENT, method: UPLOAD, times: 6 });
    await rig.run(30_000);
    await manager.syncNow();
    const s = manager.status().collectors[0]!;
    assert.ok(s.setAside > 0, "a rejected block was set aside");
    // At most one block (≤ 21 readings at 20 Hz, 1 s flush) per rejection once narrowed down to single blocks.
    assert.ok(s.setAside <= 6 * 21, `only culprit blocks are set aside (${s.setAside} readings)`);
    assert.equal(manager.status().sync.failedRounds, 0, "rejections are not retried with backoff");
    const values = rig.cloudValues("r");
    assert.equal(new Set(values).size, values.length, "no duplicate");
    assert.equal(values.length + s.setAside, rig.counters.of("r"), "every other reading delivered");
    const missing = [];
    for (let v = 1, i = 0; v <= rig.counters.of("r"); v++) {
      if (values[i] === v) i++;
      else missing.push(v);
    }
    assert.ok(
      missing[0]! > 1 && missing.at(-1)! < rig.counters.of("r"),
      "readings on both sides of the gap arrived",
    );
    assert.ok(
      rig.log.lines.some((l) => l.startsWith("error") && l.includes("set aside")),
      "the set-aside is logged",
    );
  } finally {
    await rig.stop();
  }
});

test("fault: INTERNAL for one collector only: it backs off alone; the other uploads every interval with no backlog", async () => {
  const rig = await new Rig({ flashBytes: 256 * 1024 }).start();
  try {
    // 1 s flushes: every 6 s interval has new readings for the healthy collector.
    const manager = rig.boot(
      settingsFor(
        [
          { name: "good", type: "sensor", hz: 2, sectors: 16 },
          { name: "bad", type: "sensor", hz: 0.2, sectors: 40 },
        ],
        { flush_interval_secs: 1 },
      ),
    );
    await rig.run(30_000);
    rig.cloud.faults.add({
      kind: "status",
      code: Code.INTERNAL,
      method: UPLOAD,
      component: "bad",
      times: forever,
    });
    const uploadsBefore = rig.cloud.store.db
      .prepare("SELECT COUNT(*) AS n FROM uploads WHERE component_name = 'good'")
      .get() as { n: number };
    const hours = 2;
    await rig.run(hours * 3_600_000, 6_000);
    const status = manager.status();
    const good = status.collectors.find((c) => c.componentName === "good")!;
    const bad = status.collectors.find((c) => c.componentName === "bad")!;
    const goodUploads = (
      rig.cloud.store.db.prepare("SELECT COUNT(*) AS n FROM uploads WHERE component_name = 'good'").get() as {
        n: number;
      }
    ).n;
    // One upload per 6 s interval over the two hours (the interval is measured from each round's end).
    assert.ok(
      goodUploads - uploadsBefore.n >= (hours * 3_600_000) / 6_000 - 2,
      `${goodUploads - uploadsBefore.n} uploads of the healthy collector`,
    );
    assert.ok(good.pending <= 2 * 7, `healthy backlog ${good.pending} readings`);
    assert.equal(status.sync.collectors[good.key]!.consecutiveFailures, 0);
    const badSync = status.sync.collectors[bad.key]!;
    assert.ok(badSync.consecutiveFailures >= 15, `bad failed ${badSync.consecutiveFailures} times`);
    assert.equal(badSync.backoffMs, 3_600_000, "the failing collector is at the hourly cap");
    assert.equal(status.sync.transportFailures, 0);
    // Everything the failing collector captured during the fault is still in its ring (sized for it).
    assert.ok(bad.inFlash >= 0.2 * hours * 3600, `bad keeps ${bad.inFlash} readings`);
    assert.equal(bad.dropped + bad.setAside, 0);
    assert.equal(rig.cloud.faults.counts.status! >= 15, true);
    // The cloud recovers: one sync now, every reading of both exactly once.
    rig.cloud.faults.clear();
    await manager.syncNow();
    for (const name of ["good", "bad"]) {
      const values = rig.cloudValues(name);
      const captured = rig.counters.of(name);
      const pending = manager.status().collectors.find((c) => c.componentName === name)!.pending;
      assert.deepEqual(values, range(1, captured - pending), `${name}: exactly once, in order`);
    }
  } finally {
    await rig.stop();
  }
});

test("fault: HTTP 413 from a proxy: the request gets smaller (never re-sent at the same size), nothing set aside, no backoff", async () => {
  const rig = await new Rig().start();
  try {
    const sizes: number[] = [];
    const measuring = {
      send: (request: Uint8Array) => {
        sizes.push(request.length);
        return rig.sender.send(request);
      },
    };
    // Rounds hourly: a minute of 20 Hz readings waits for the "sync now" below.
    const settings = settingsFor([{ name: "r", type: "sensor", hz: 20 }], {
      flush_interval_secs: 1,
      sync_interval_mins: 60,
    });
    const device = rig.boot(settings, measuring);
    await rig.run(60_000, 1_000);
    rig.cloud.faults.add({ kind: "http-status", status: 413, method: UPLOAD, times: 3 });
    await device.syncNow();
    // Three refusals, each followed by a request no larger than half of the refused one.
    assert.ok(sizes.length >= 4, `${sizes.length} requests`);
    for (let i = 1; i <= 3; i++)
      assert.ok(sizes[i]! <= sizes[i - 1]! / 2 + 64, `request ${i}: ${sizes[i]} after ${sizes[i - 1]}`);
    const s = device.status();
    assert.equal(s.sync.failedRounds, 0);
    assert.equal(s.collectors[0]!.setAside, 0);
    assert.equal(s.collectors[0]!.inFlash, 0);
    assert.deepEqual(rig.cloudValues("r"), range(1, s.collectors[0]!.synced));
    assert.equal(rig.cloud.faults.counts["http-status"], 3);
  } finally {
    await rig.stop();
  }
});
