// The boot sequence with scripted ports: capture starts from the cache before
// any network, cloud configs reconfigure it, bad configs and bad credentials
// are reported without stopping capture, WiFi flapping is survived.
import { Boot } from "../../modules/app/boot";
import { FlashConfigCache } from "../../modules/app/config-cache";
import { SettableWallClock } from "../../modules/app/wall-clock";
import { Code, RpcError } from "../../modules/rpc/status";
import { NorImage } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import {
  interpretTest,
  MemoryKv,
  PART_ID,
  provisionedKv,
  RecordingData,
  RecordingLog,
  ScriptedCloud,
  ScriptedLink,
  settle,
  type TestSettings,
} from "./boot-fixtures";

interface Rig {
  boot: Boot<TestSettings>;
  fake: FakeClock;
  clock: SettableWallClock;
  data: RecordingData;
  cloud: ScriptedCloud;
  link: ScriptedLink;
  log: RecordingLog;
  flash: NorImage;
  cloudOpenedWith: string[];
}

function rig(options: { kv?: MemoryKv; flash?: NorImage; cloud?: ScriptedCloud } = {}): Rig {
  const fake = new FakeClock(0);
  const clock = new SettableWallClock(() => fake.monotonic());
  const data = new RecordingData();
  const cloud = options.cloud ?? new ScriptedCloud();
  const link = new ScriptedLink();
  const log = new RecordingLog();
  const flash = options.flash ?? new NorImage({ size: 4 * 4096 });
  const cloudOpenedWith: string[] = [];
  const boot = new Boot<TestSettings>({
    kv: options.kv ?? provisionedKv(),
    clock,
    timers: fake,
    log,
    openLink: (wifi) => (wifi ? link : null),
    openCloud: (credentials) => {
      cloudOpenedWith.push(credentials.partId);
      return cloud;
    },
    openData: () => data,
    interpret: interpretTest,
    configCache: new FlashConfigCache(flash),
    configPollMs: 60_000,
    random: () => 0,
  });
  return { boot, fake, clock, data, cloud, link, log, flash, cloudOpenedWith };
}

function cacheConfig(flash: NorImage, revision: string, collectors: Record<string, unknown>): void {
  new FlashConfigCache(flash).save(JSON.stringify({ revision, config: { collectors } }));
}

test("boot: offline, capture starts from the cached config before any network", () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r7", { temp: 1, imu: 100 });
  const r = rig({ flash });
  r.boot.start();
  assert.deepEqual(r.data.running, { temp: 1, imu: 100 });
  assert.equal(r.boot.status().config.origin, "cache");
  assert.equal(r.boot.status().config.revision, "r7");
  assert.equal(r.cloud.calls, 0, "nothing asked of the cloud while offline");
  // An hour offline with the link failing: the config stays, nothing else is applied.
  r.fake.advance(3_600_000);
  assert.equal(r.data.applied.length, 1);
  assert.ok(r.log.has("I", /capturing from the cached config \(revision "r7"\)/));
  assert.ok(r.link.retries > 10, `link retried (${r.link.retries})`);
});

test("boot: with no cache, the first cloud config starts capture and is cached for the next boot", async () => {
  const r = rig();
  r.cloud.current = { revision: "r1", config: { collectors: { temp: 2 } } };
  r.boot.start();
  assert.equal(r.data.applied.length, 0, "nothing to capture yet");
  assert.ok(r.log.has("I", /no cached config yet/));
  r.link.emit("up");
  r.fake.advance(0);
  await settle();
  assert.deepEqual(r.data.running, { temp: 2 });
  assert.equal(r.boot.status().config.origin, "cloud");
  // Reboot: the cache serves the same config offline.
  const again = rig({ flash: r.flash });
  again.boot.start();
  assert.deepEqual(again.data.running, { temp: 2 });
  assert.equal(again.boot.status().config.revision, "r1");
});

test("boot: a cloud config arriving later reconfigures without reboot; unchanged polls apply nothing", async () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r1", { temp: 1 });
  const r = rig({ flash });
  r.cloud.current = { revision: "r1", config: { collectors: { temp: 1 } } };
  r.boot.start();
  r.link.emit("up");
  r.fake.advance(0);
  await settle();
  assert.equal(r.data.applied.length, 1, "the cloud's config equals the cache: not applied twice");
  assert.ok(r.log.has("I", /equals the cached one/));
  // The user changes a frequency in the cloud: picked up at the next poll.
  r.cloud.current = { revision: "r2", config: { collectors: { temp: 5, imu: 200 } } };
  r.fake.advance(59_000);
  await settle();
  assert.equal(r.data.applied.length, 1, "not before the poll interval");
  r.fake.advance(1_000);
  await settle();
  assert.deepEqual(r.data.running, { temp: 5, imu: 200 });
  assert.ok(r.log.has("I", /applied revision "r2" \(was "r1"\) without a reboot/));
  for (let i = 0; i < 5; i++) {
    r.fake.advance(60_000);
    await settle();
  }
  assert.equal(r.data.applied.length, 2, "polls of an unchanged config apply nothing");
  assert.equal(r.cloud.calls, 7);
  assert.equal(new FlashConfigCache(r.flash).load()?.includes('"r2"'), true, "new config cached");
});

test("boot: a bad cloud config keeps the last good one running, logged once", async () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r1", { temp: 1 });
  const r = rig({ flash });
  r.cloud.current = { revision: "r2", config: { sensors: "oops" } };
  r.boot.start();
  r.link.emit("up");
  r.fake.advance(0);
  await settle();
  r.fake.advance(60_000 * 3);
  await settle();
  assert.deepEqual(r.data.running, { temp: 1 });
  assert.equal(r.data.applied.length, 1);
  const rejections = r.log.lines.filter((l) => /revision "r2" from cloud rejected/.test(l));
  assert.equal(rejections.length, 1, "the same bad config is reported once, not every poll");
  assert.ok(/keeping the last good config \(revision "r1"\)/.test(rejections[0]!));
  assert.equal(r.boot.status().config.rejected, 1);
  // The bad config was not cached: a reboot still runs r1.
  const again = rig({ flash: r.flash });
  again.boot.start();
  assert.deepEqual(again.data.running, { temp: 1 });
  // A fixed config is then applied.
  r.cloud.current = { revision: "r3", config: { collectors: { temp: 3 } } };
  r.fake.advance(60_000);
  await settle();
  assert.deepEqual(r.data.running, { temp: 3 });
});

test("boot: bad entries are reported and skipped, the valid ones run", async () => {
  const r = rig();
  r.cloud.current = { revision: "r1", config: { collectors: { temp: 2, broken: -1, text: "fast" } } };
  r.boot.start();
  r.link.emit("up");
  r.fake.advance(0);
  await settle();
  assert.deepEqual(r.data.running, { temp: 2 });
  assert.ok(r.log.has("W", /collector broken: capture_frequency_hz -1/));
  assert.ok(r.log.has("W", /collector text: capture_frequency_hz fast/));
});

test("boot: missing credentials give a clear error and capture continues from the cache", () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r1", { temp: 1 });
  const kv = new MemoryKv();
  kv.set("wifi_ssid", "shed");
  kv.set("part_id", PART_ID);
  const r = rig({ kv, flash });
  r.boot.start();
  assert.deepEqual(r.data.running, { temp: 1 });
  assert.equal(r.cloudOpenedWith.length, 0, "no cloud client without credentials");
  assert.ok(
    r.log.has("E", /no usable cloud credentials \("part_secret" is not set; "app_address" is not set\)/),
  );
  assert.ok(r.log.has("E", /Capture continues into flash/));
  assert.equal(r.boot.status().credentials, "missing");
  r.link.emit("up");
  r.fake.advance(120_000);
  assert.equal(r.cloud.calls, 0);
});

test("boot: malformed credentials are named", () => {
  const kv = provisionedKv();
  kv.set("part_id", "not-a-uuid");
  kv.set("app_address", "ftp://app.viam.com");
  const r = rig({ kv });
  r.boot.start();
  assert.ok(r.log.has("E", /"part_id" is not a part id/));
  assert.ok(r.log.has("E", /"app_address": app_address "ftp:\/\/app.viam.com": scheme "ftp" is not https/));
});

test("boot: wrong credentials are reported as such, retried with backoff, capture continues", async () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r1", { temp: 1 });
  const r = rig({ flash });
  r.cloud.failWith = new RpcError(Code.UNAUTHENTICATED, "bad secret");
  r.boot.start();
  r.link.emit("up");
  r.fake.advance(0);
  await settle();
  assert.ok(
    r.log.has(
      "E",
      /the cloud refused the credentials \(UNAUTHENTICATED: bad secret\): check part_id and part_secret/,
    ),
  );
  assert.ok(r.log.has("E", /running config from cache stays/));
  const callsAfterFirst = r.cloud.calls;
  for (let i = 0; i < 20; i++) {
    r.fake.advance(10_000);
    await settle();
  }
  // 5 s, 10 s, 20 s, 40 s, 80 s … : a handful of retries in 200 s, not 40.
  assert.ok(
    r.cloud.calls - callsAfterFirst >= 3 && r.cloud.calls - callsAfterFirst <= 6,
    `retries ${r.cloud.calls}`,
  );
  assert.deepEqual(r.data.running, { temp: 1 });
  // Credentials fixed in the cloud: next retry succeeds.
  r.cloud.failWith = undefined;
  r.cloud.current = { revision: "r2", config: { collectors: { temp: 4 } } };
  r.fake.advance(400_000);
  await settle();
  assert.deepEqual(r.data.running, { temp: 4 });
});

test("boot: WiFi flapping never stops capture, and each return fetches and syncs at once", async () => {
  const flash = new NorImage({ size: 4 * 4096 });
  cacheConfig(flash, "r1", { temp: 1 });
  const r = rig({ flash });
  r.cloud.current = { revision: "r1", config: { collectors: { temp: 1 } } };
  r.boot.start();
  let ups = 0;
  for (let i = 0; i < 50; i++) {
    r.link.emit("up");
    ups++;
    r.fake.advance(i % 7);
    await settle();
    r.link.emit("down");
    r.fake.advance(1 + (i % 5) * 1000);
    await settle();
  }
  assert.equal(r.data.applied.length, 1, "capture config never torn down by the network");
  assert.equal(r.data.closed, false);
  assert.equal(r.data.syncNows, ups, "every return of the network triggers a sync");
  assert.ok(r.cloud.calls >= 1 && r.cloud.calls <= ups);
  // Down for good: polling stops, no timers pile up.
  r.fake.advance(3_600_000);
  assert.ok(r.fake.pending() <= 2, `timers armed: ${r.fake.pending()}`);
  assert.ok(r.log.has("W", /network: lost; capture continues/));
});

test("boot: SNTP sets the clock before a TLS cloud is contacted", async () => {
  const fake = new FakeClock(0);
  const clock = new SettableWallClock(() => fake.monotonic());
  const link = new ScriptedLink();
  const cloud = new ScriptedCloud();
  cloud.current = { revision: "r1", config: { collectors: { temp: 1 } } };
  const log = new RecordingLog();
  const answers: ((epochMs: number, detail: string) => void)[] = [];
  const boot = new Boot<TestSettings>({
    kv: provisionedKv(),
    clock,
    timers: fake,
    log,
    openLink: () => link,
    openCloud: () => cloud,
    openData: () => new RecordingData(),
    interpret: interpretTest,
    configCache: null,
    cloudNeedsClock: true,
    random: () => 0,
    timeSync: {
      start: (done) => {
        answers.push(done);
      },
      close() {},
    },
  });
  boot.start();
  link.emit("up");
  fake.advance(0);
  await settle();
  assert.equal(cloud.calls, 0, "no TLS call with a 1970 clock");
  assert.ok(log.has("I", /waiting for the clock/));
  assert.ok(Number.isNaN(clock.wall()));
  // The first SNTP exchange fails: asked again while the network stays up, not at the next reconnect.
  assert.equal(answers.length, 1);
  answers[0]!(Number.NaN, "pool.ntp.org did not answer");
  assert.ok(log.has("W", /SNTP gave no time \(pool.ntp.org did not answer\); asking again in 5000 ms/));
  fake.advance(4_999);
  assert.equal(answers.length, 1);
  fake.advance(1);
  assert.equal(answers.length, 2, "SNTP asked again");
  answers[1]!(1_763_700_000_000, "pool.ntp.org");
  fake.advance(0);
  await settle();
  assert.equal(cloud.calls, 1);
  assert.equal(boot.status().clock, "SNTP");
  assert.ok(Math.abs(clock.wall() - 1_763_700_000_000) < 1);
});

test("boot: network attempts that hang are abandoned and retried with growing waits", () => {
  const r = rig();
  r.boot.start();
  assert.equal(r.link.starts, 1);
  // 30 s attempt timeout, then waits of 1, 2, 4, 8 s (jitter 0 via random → 0 shortening).
  r.fake.advance(30_000);
  assert.equal(r.link.retries, 0);
  r.fake.advance(1_000);
  assert.equal(r.link.retries, 1);
  r.fake.advance(30_000 + 2_000);
  assert.equal(r.link.retries, 2);
  r.fake.advance(30_000 + 4_000);
  assert.equal(r.link.retries, 3);
  r.link.emit("up");
  r.link.emit("down");
  // After a success the wait starts again at 1 s.
  r.fake.advance(1_000);
  assert.equal(r.link.retries, 4);
});
