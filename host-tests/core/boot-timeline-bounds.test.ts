// The boot timeline read back from the key-value store (NVS) is untrusted: a row out of bounds is
// dropped, counted and logged at load, so the transcoder only ever sees offsets that place readings
// inside protobuf Timestamp's range with short varints (no endless loop on an infinite offset).
import {
  BOOTS_KEPT,
  BOOTS_KEY,
  BootTimeline,
  bootRowProblem,
  isValidWall,
  MAX_BOOT_OFFSET_MS,
  MAX_VALID_WALL_MS,
  MIN_BOOT_OFFSET_MS,
} from "../../modules/capture/boot-timeline";
import { TIMES_NOT_KNOWN_YET } from "../../modules/capture/transcoder";
import type { Logger } from "../../modules/ports";
import { ProtoReader } from "../../modules/proto/reader";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryStore } from "../support/memory-store";
import { CaptureRig, MemoryKv } from "../support/sensors-rig";

function logger(warnings: string[]): Logger {
  return {
    info() {},
    warn: (m: string) => warnings.push(m),
    error: (m: string) => warnings.push(m),
  };
}

/** Largest |µs| a block's monotonic time can hold: an 8-byte varint (transcoder.ts). */
const MAX_BLOCK_US = 2 ** 56;
/** protobuf Timestamp's valid range, 0001-01-01 .. 9999-12-31T23:59:59Z, in seconds. */
const MIN_TIMESTAMP_S = -62_135_596_800;
const MAX_TIMESTAMP_S = 253_402_300_799;

/**
 * The offset the transcoder would add is safe: NaN (not yet known) or finite, and no reading a block can
 * hold (monotonic µs ≤ its last, under 2^56) is placed past protobuf Timestamp's range. Earlier than
 * 1970 the transcoder writes 1970 (it never writes negative seconds).
 */
function assertSafeOffset(timeline: BootTimeline, bootId: number, context: string): void {
  for (const lastUs of [0, 1e9, MAX_BLOCK_US]) {
    const offsetUs = timeline.offsetUs(bootId, lastUs);
    if (Number.isNaN(offsetUs)) continue;
    assert.ok(Number.isFinite(offsetUs), `${context}: offset ${offsetUs} µs`);
    const latestS = (lastUs + offsetUs) / 1e6;
    assert.ok(latestS <= MAX_TIMESTAMP_S, `${context}: a reading could be placed at ${latestS} s`);
    assert.ok(Math.abs(offsetUs) < 2 ** 58, `${context}: offset ${offsetUs} µs`);
  }
}

const W = Date.UTC(2025, 5, 1, 12);
const good = (id: number) => [id, W - 5000, 90_000];

// Each corrupt value: the text stored under cs.boots (ids 1..3 are boots that existed).
const corrupt: { name: string; text: string; rejected: number; why: RegExp }[] = [
  {
    name: "an infinite offset (1e400)",
    text: '{"n":4,"b":[[1,1e400,5],[2,null,7],[3,1.7e12,0]]}',
    rejected: 1,
    why: /boot 1: offset Infinity/,
  },
  {
    name: "a huge offset",
    text: `{"n":4,"b":[[1,1e308,5],${JSON.stringify(good(2))}]}`,
    rejected: 1,
    why: /offset 1e\+308/,
  },
  { name: "a negative huge offset", text: '{"n":4,"b":[[1,-1e308,5]]}', rejected: 1, why: /offset -1e\+308/ },
  {
    name: "an offset past 2100",
    text: `{"n":4,"b":[[1,${MAX_BOOT_OFFSET_MS + 1},5]]}`,
    rejected: 1,
    why: /offset/,
  },
  {
    name: "an offset before its window",
    text: `{"n":4,"b":[[1,${MIN_BOOT_OFFSET_MS - 1},5]]}`,
    rejected: 1,
    why: /offset/,
  },
  { name: "a string offset", text: '{"n":4,"b":[[1,"1700000000000",5]]}', rejected: 1, why: /offset/ },
  {
    name: "an infinite high-water mark",
    text: '{"n":4,"b":[[1,null,1e400],[2,1.7e12,0]]}',
    rejected: 1,
    why: /high-water mark Infinity/,
  },
  { name: "a negative high-water mark", text: '{"n":4,"b":[[1,null,-5]]}', rejected: 1, why: /high-water/ },
  {
    name: "a missing high-water mark",
    text: '{"n":4,"b":[[1,null]]}',
    rejected: 1,
    why: /not an \[id, offset, high-water\] row/,
  },
  {
    name: "a fractional id",
    text: '{"n":4,"b":[[1.5,null,5]]}',
    rejected: 1,
    why: /boot id 1.5 out of range/,
  },
  { name: "id 0", text: '{"n":4,"b":[[0,null,5]]}', rejected: 1, why: /boot id 0/ },
  { name: "an id past 2^31", text: '{"n":4,"b":[[2147483648,null,5]]}', rejected: 1, why: /boot id/ },
  {
    name: "a duplicate id",
    text: '{"n":4,"b":[[1,null,5],[1,1.7e12,5]]}',
    rejected: 1,
    why: /boot 1 listed twice/,
  },
  {
    name: "too many rows",
    text: JSON.stringify({ n: 40, b: Array.from({ length: 30 }, (_, i) => [i + 1, null, 5]) }),
    rejected: 30 - BOOTS_KEPT,
    why: /more than 12 boots/,
  },
  {
    name: "a next id of the wrong type",
    text: '{"n":"x","b":[[1,null,5]]}',
    rejected: 1,
    why: /next boot id x/,
  },
  { name: "an infinite next id", text: '{"n":1e400,"b":[]}', rejected: 1, why: /next boot id Infinity/ },
  { name: "a list that is not a list", text: '{"n":4,"b":{"0":[1,null,5]}}', rejected: 1, why: /not a list/ },
];

for (const row of corrupt) {
  test(`boot timeline bounds: ${row.name} is dropped, counted and logged at load`, () => {
    const kv = new MemoryKv();
    kv.set(BOOTS_KEY, row.text);
    const warnings: string[] = [];
    const timeline = new BootTimeline(kv, logger(warnings));
    assert.equal(timeline.rejectedEntries, row.rejected);
    assert.equal(warnings.length, 1, warnings.join(" | "));
    assert.ok(row.why.test(warnings[0]!), warnings[0]);
    assert.ok(warnings[0]!.includes(`${row.rejected} stored value`), warnings[0]);
    for (let id = 1; id < timeline.bootId; id++) assertSafeOffset(timeline, id, `${row.name}, boot ${id}`);
    // This boot's id is new even when the stored next id was lost.
    const stored = JSON.parse(kv.get(BOOTS_KEY)!) as { n: number; b: [number, number | null, number][] };
    for (const [id, offset, highWater] of stored.b) {
      assert.ok(id <= timeline.bootId, "rows kept are earlier boots or this one");
      assert.equal(bootRowProblem([id, offset, highWater]), "", "what is written back is in bounds");
    }
    assert.equal(stored.n, timeline.bootId + 1);
  });
}

test("boot timeline bounds: unreadable values start a new timeline with one warning", () => {
  const cases: [string, RegExp][] = [
    [`{"n":2,"b":${"[".repeat(1000)}${"]".repeat(1000)}}`, /nested deeper than its format/],
    [`{"n":2,"b":[[1,null,5]],"pad":"${"x".repeat(4000)}"}`, /at most 4000 characters/],
    ["5", /not an object/],
    ["[1,2]", /not an object/],
    ["null", /not an object/],
    ["{oops", /not JSON/],
  ];
  for (const [text, why] of cases) {
    const kv = new MemoryKv();
    kv.set(BOOTS_KEY, text);
    const warnings: string[] = [];
    const timeline = new BootTimeline(kv, logger(warnings));
    assert.equal(timeline.rejectedEntries, 1, text.slice(0, 30));
    assert.equal(warnings.length, 1);
    assert.ok(why.test(warnings[0]!), warnings[0]);
    assert.ok(kv.get(BOOTS_KEY)!.length < 200, "rewritten in good shape");
  }
});

test("boot timeline bounds: a next id lost or behind the stored boots never reuses one of their ids", () => {
  const kv = new MemoryKv();
  kv.set(BOOTS_KEY, '{"n":2,"b":[[5,null,5],[9,1.7e12,5]]}');
  const timeline = new BootTimeline(kv, logger([]));
  assert.equal(timeline.bootId, 10);
});

test("boot timeline bounds: good rows load unchanged, with nothing rejected", () => {
  const kv = new MemoryKv();
  kv.set(BOOTS_KEY, JSON.stringify({ n: 4, b: [good(1), [2, null, 1234], good(3)] }));
  const warnings: string[] = [];
  const timeline = new BootTimeline(kv, logger(warnings));
  assert.equal(timeline.rejectedEntries, 0);
  assert.deepEqual(warnings, []);
  assert.equal(timeline.bootId, 4);
  assert.equal(timeline.offsetUs(1, 0), (W - 5000) * 1000);
});

test("boot timeline bounds: a wall clock past 2100 is not a valid one", () => {
  assert.ok(isValidWall(W));
  assert.ok(!isValidWall(MAX_VALID_WALL_MS));
  assert.ok(!isValidWall(Date.UTC(9999, 11, 31)));
  assert.ok(!isValidWall(Number.POSITIVE_INFINITY));
  assert.ok(!isValidWall(Number.NaN));
  const kv = new MemoryKv();
  const timeline = new BootTimeline(kv, logger([]));
  assert.equal(timeline.observe(1000, Date.UTC(9999, 0, 1)), false, "never learned from an absurd clock");
  assert.ok(Number.isNaN(timeline.offsetMs));
});

/** Timestamps of every SensorData the transcoder wrote, read with the core's bounded reader (≤ 10-byte varints). */
function timestampSeconds(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const r = new ProtoReader(bytes);
  while (r.more()) {
    r.tag();
    const dataEnd = r.enter();
    while (r.more()) {
      const field = r.tag();
      if (field !== 1) {
        r.skip();
        continue;
      }
      const metaEnd = r.enter();
      while (r.more()) {
        r.tag();
        const tsEnd = r.enter();
        let seconds = 0;
        while (r.more()) {
          const tag = r.tag();
          if (tag === 1) seconds = r.int64();
          else {
            const nanos = r.int64();
            assert.ok(nanos >= 0 && nanos <= 999_999_999, `nanos ${nanos}`);
          }
        }
        r.leave(tsEnd);
        out.push(seconds);
      }
      r.leave(metaEnd);
    }
    r.leave(dataEnd);
  }
  return out;
}

test("boot timeline bounds: a corrupt NVS offset reaches the real transcoder as a clear placement, not a hang", () => {
  const kv = new MemoryKv();
  const store = new MemoryStore();
  const SENSOR = "rdk:component:sensor";
  const key = `${SENSOR}/s/Readings`;
  const config = [
    { name: "s", api: SENSOR, model: "scripted", methods: [{ method: "Readings", capture_frequency_hz: 2 }] },
  ];
  // Boot 1 captures offline (monotonic times), then the power is cut.
  const boot1 = new CaptureRig(store, kv, new FakeClock(0));
  boot1.apply(config);
  boot1.clock.advance(30_000);
  boot1.capture.flush();
  const boot1Id = boot1.capture.samplerStats().bootId;
  // NVS rots: boot 1 now claims an infinite offset (JSON's 1e400).
  kv.set(BOOTS_KEY, `{"n":${boot1Id + 1},"b":[[${boot1Id},1e400,30000]]}`);

  // Guard first, on a copy of the store: if the bounds were gone, the transcoder below would loop
  // forever on this offset; this assertion fails instead of hanging.
  const copy = new MemoryKv();
  copy.set(BOOTS_KEY, kv.get(BOOTS_KEY)!);
  const warnings: string[] = [];
  const probe = new BootTimeline(copy, logger(warnings));
  assert.equal(probe.rejectedEntries, 1);
  assertSafeOffset(probe, boot1Id, "corrupt offset");

  const boot2 = new CaptureRig(store, kv, new FakeClock(0));
  assert.ok(
    boot2.log.lines.some((l) =>
      /boot timeline .*1 stored value out of bounds, dropped \(boot \d+: offset Infinity/.test(l),
    ),
    boot2.log.lines.join("\n"),
  );
  boot2.apply(config);
  const [first] = boot2.store.ring(key)!.read(1 << 20)!.records;
  // Until boot 2 knows the wall clock, boot 1's blocks wait (nothing written, nothing skipped).
  assert.equal(boot2.capture.writeSensorData(first!, new ProtoWriter(), 2), TIMES_NOT_KNOWN_YET);
  boot2.clock.advance(2000);
  boot2.clock.setWall(W);
  boot2.clock.advance(1000);
  boot2.capture.flush();
  // Boot 1 is placed by the estimate rule (just before boot 2 started), every Timestamp valid.
  const w = new ProtoWriter(4096);
  const n = boot2.capture.writeSensorData(first!, w, 2);
  assert.ok(n > 0);
  const seconds = timestampSeconds(w.finish());
  assert.equal(seconds.length, 2 * n, "time_requested and time_received per reading");
  const boot2StartS = (W - 2000) / 1000;
  for (const s of seconds) {
    assert.ok(s >= MIN_TIMESTAMP_S && s <= MAX_TIMESTAMP_S, `${s} s`);
    assert.ok(
      s <= boot2StartS && s > boot2StartS - 60,
      `boot 1 placed just before boot 2 (${s} vs ${boot2StartS})`,
    );
  }
  const readings = boot2.stored(key);
  assert.ok(readings.length >= 60, `${readings.length} readings`);
  for (let i = 1; i < readings.length; i++)
    assert.ok(readings[i]!.requestedUs > readings[i - 1]!.requestedUs);
});
