// Small boot pieces: the HTTP Date parser and the clock it sets, the cloud
// address and viam.json parsers, build-time provisioning, the config cache's
// power-cut safety.
import { parseCloudAddress } from "../../modules/app/cloud-address";
import { FlashConfigCache } from "../../modules/app/config-cache";
import { parseViamJson, provisionFromBuildConfig } from "../../modules/app/credentials";
import { DateHeaderClockTransport } from "../../modules/app/date-header-clock";
import { parseHttpDate, SettableWallClock } from "../../modules/app/wall-clock";
import type { HttpRequest, HttpResponse, HttpTransport } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";
import { MemoryKv, RecordingLog } from "./boot-fixtures";

test("clock: IMF-fixdate parses exactly; anything else is NaN", () => {
  // RFC 9110's own example is 1994: outside the 2020..2099 window a Date header may set.
  assert.ok(Number.isNaN(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")));
  assert.equal(parseHttpDate("Sat, 21 Nov 2026 10:31:27 GMT"), Date.UTC(2026, 10, 21, 10, 31, 27));
  for (const bad of [
    "",
    "yesterday",
    "Sun, 06 Nov 1994 08:49:37 PST",
    "Sun, 32 Nov 1994 08:49:37 GMT",
    "Sun, 06 Foo 1994 08:49:37 GMT",
  ]) {
    assert.ok(Number.isNaN(parseHttpDate(bad)), bad);
  }
});

test("clock: the first response's Date header sets an unset clock, once; implausible dates are refused", async () => {
  let now = 1000;
  const clock = new SettableWallClock(() => now);
  const dates = [
    "Thu, 01 Jan 1970 00:00:05 GMT",
    "Sat, 21 Nov 2026 10:31:27 GMT",
    "Sun, 22 Nov 2026 00:00:00 GMT",
  ];
  const inner: HttpTransport = {
    request: (_request: HttpRequest): Promise<HttpResponse> =>
      Promise.resolve({ status: 200, headers: { date: dates.shift()! }, body: new Uint8Array(0) }),
    close() {},
  };
  const log = new RecordingLog();
  const transport = new DateHeaderClockTransport(inner, clock, log);
  const request = {
    path: "/x",
    headers: {},
    body: new Uint8Array(0),
    timeoutMs: 1000,
    maxResponseBytes: 100,
  };
  await transport.request(request);
  assert.ok(Number.isNaN(clock.wall()), "1970 is not a time");
  await transport.request(request);
  assert.equal(clock.wall(), Date.UTC(2026, 10, 21, 10, 31, 27) + 500);
  assert.equal(clock.source, "cloud Date header");
  now += 2000;
  await transport.request(request);
  assert.equal(
    clock.wall(),
    Date.UTC(2026, 10, 21, 10, 31, 29) + 500,
    "a valid clock is not reset by later headers",
  );
  assert.equal(log.lines.length, 2, log.lines.join(" | "));
  assert.ok(log.has("W", /Date header "Thu, 01 Jan 1970 00:00:05 GMT" is not a real date/));
  assert.ok(log.has("I", /set from the cloud's Date header/));
});

test("credentials: cloud address forms", () => {
  assert.deepEqual(parseCloudAddress("https://app.viam.com:443"), {
    secure: true,
    host: "app.viam.com",
    port: 443,
  });
  assert.deepEqual(parseCloudAddress("https://App.Viam.com"), {
    secure: true,
    host: "app.viam.com",
    port: 443,
  });
  assert.deepEqual(parseCloudAddress("http://127.0.0.1:8080/"), {
    secure: false,
    host: "127.0.0.1",
    port: 8080,
  });
  for (const bad of ["app.viam.com", "ftp://x", "https://x:0", "https://x:70000", "https://x/path"]) {
    assert.throws(() => parseCloudAddress(bad), /^app_address "/, bad);
  }
});

test("credentials: viam.json is read as Viam writes it, with clear errors", () => {
  const text = JSON.stringify({
    cloud: { id: "id-1", secret: "s", app_address: "https://app.viam.com:443" },
  });
  assert.deepEqual(parseViamJson(text), {
    partId: "id-1",
    secret: "s",
    appAddress: "https://app.viam.com:443",
  });
  assert.throws(() => parseViamJson("{"), /viam.json is not JSON/);
  assert.throws(() => parseViamJson("{}"), /no "cloud" object/);
  assert.throws(
    () => parseViamJson(JSON.stringify({ cloud: { id: "x", secret: "y" } })),
    /"cloud.app_address" is missing/,
  );
});

test("credentials: build-time provisioning writes only what changed, and never needs the values logged", () => {
  const kv = new MemoryKv();
  const build = {
    partId: "p",
    secret: "s",
    appAddress: "https://a:1",
    ssid: "net",
    password: "",
    unrelated: "x",
  };
  assert.deepEqual(provisionFromBuildConfig(kv, build), [
    "part_id",
    "part_secret",
    "app_address",
    "wifi_ssid",
  ]);
  assert.deepEqual(provisionFromBuildConfig(kv, build), [], "a second boot writes nothing");
  assert.deepEqual(provisionFromBuildConfig(kv, { ...build, secret: "s2" }), ["part_secret"]);
  assert.deepEqual(provisionFromBuildConfig(kv, {}), [], "a build without values keeps what NVS holds");
  assert.equal(kv.get("part_secret"), "s2");
});

test("config cache: a power cut at any point of a save leaves the old or the new config, never garbage", () => {
  const oldText = JSON.stringify({ revision: "1", config: { a: "x".repeat(5000) } });
  const newText = JSON.stringify({ revision: "2", config: { a: "ü€".repeat(3000) } });
  let sawOld = 0;
  let sawNew = 0;
  for (let op = 0; op < 40; op++) {
    for (const tear of ["prefix", "bits", "random"] as const) {
      const flash = new NorImage({ size: 8 * 4096 });
      new FlashConfigCache(flash).save(oldText);
      flash.armPowerCut({ atOperation: flash.operations + op, tear, seed: op + 1 });
      try {
        new FlashConfigCache(flash).save(newText);
      } catch {
        // The power cut.
      }
      flash.reboot();
      const loaded = new FlashConfigCache(flash).load();
      assert.ok(loaded === oldText || loaded === newText, `op ${op} ${tear}: ${String(loaded).slice(0, 40)}`);
      if (loaded === oldText) sawOld++;
      else sawNew++;
    }
  }
  assert.ok(sawOld > 0 && sawNew > 0, `both outcomes occur (${sawOld} old, ${sawNew} new)`);
});

test("config cache: too large is refused up front; an empty region loads nothing", () => {
  const cache = new FlashConfigCache(new NorImage({ size: 2 * 4096 }));
  assert.equal(cache.load(), undefined);
  assert.throws(() => cache.save("x".repeat(5000)), /cache slot holds 4080/);
  assert.equal(cache.load(), undefined);
});
