// Plain-HTTP cloud addresses: refused unless loopback or the documented insecure
// build option, with a warning at every boot (modules/app/cloud-policy.ts, used by boot).
import { Boot } from "../../modules/app/boot";
import { parseCloudAddress } from "../../modules/app/cloud-address";
import { isLoopbackHost, judgeCloudAddress } from "../../modules/app/cloud-policy";
import { FlashConfigCache } from "../../modules/app/config-cache";
import { SettableWallClock } from "../../modules/app/wall-clock";
import { NorImage } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { interpretTest, provisionedKv, RecordingData, RecordingLog, ScriptedCloud } from "./boot-fixtures";

test("cloud policy: https always; http only to loopback or with allowInsecureHttp, always with a warning", () => {
  const https = judgeCloudAddress(parseCloudAddress("https://app.viam.com"), false);
  assert.equal(https.refused, undefined);
  assert.equal(https.warning, undefined);
  for (const host of ["127.0.0.1", "127.3.2.1", "localhost"]) {
    const verdict = judgeCloudAddress(parseCloudAddress(`http://${host}:8080`), false);
    assert.equal(verdict.refused, undefined, host);
    assert.ok(verdict.warning && /plain HTTP/.test(verdict.warning), host);
  }
  for (const host of ["app.viam.com", "10.0.0.5", "128.0.0.1", "localhost.example.com", "127.0.0.1.nip.io"]) {
    const verdict = judgeCloudAddress(parseCloudAddress(`http://${host}`), false);
    assert.ok(verdict.refused && /not loopback/.test(verdict.refused), host);
    const allowed = judgeCloudAddress(parseCloudAddress(`http://${host}`), true);
    assert.equal(allowed.refused, undefined, `${host} with the option`);
    assert.ok(allowed.warning && /INSECURE/.test(allowed.warning), `${host} warns`);
  }
  assert.ok(!isLoopbackHost("127.0.0.1.example"));
});

function bootWith(appAddress: string, buildConfig?: Record<string, unknown>) {
  const fake = new FakeClock(0);
  const kv = provisionedKv(false);
  kv.set("app_address", appAddress);
  const log = new RecordingLog();
  const opened: string[] = [];
  const boot = new Boot({
    kv,
    clock: new SettableWallClock(() => fake.monotonic()),
    timers: fake,
    log,
    buildConfig,
    openLink: () => null,
    openCloud: (credentials) => {
      opened.push(credentials.appAddress);
      return new ScriptedCloud();
    },
    openData: () => new RecordingData(),
    interpret: interpretTest,
    configCache: new FlashConfigCache(new NorImage({ size: 4 * 4096 })),
  });
  boot.start();
  boot.close();
  return { boot, log, opened };
}

test("boot: a plain-HTTP cloud that is not loopback is never contacted; the option opens it, with a warning", () => {
  const refused = bootWith("http://cloud.example.com:8080");
  assert.equal(refused.opened.length, 0, "no cloud client for a refused address");
  assert.ok(refused.log.has("E", /plain HTTP to a host that is not loopback/));
  assert.equal(refused.boot.status().credentials, "missing");
  assert.ok(refused.boot.status().credentialProblems[0]!.includes("allowInsecureHttp"));

  const allowed = bootWith("http://cloud.example.com:8080", { allowInsecureHttp: "1" });
  assert.equal(allowed.opened.length, 1);
  assert.ok(allowed.log.has("W", /INSECURE/));

  const loopback = bootWith("http://127.0.0.1:8080");
  assert.equal(loopback.opened.length, 1);
  assert.ok(loopback.log.has("W", /plain HTTP \(loopback only\)/));

  const secure = bootWith("https://app.viam.com");
  assert.equal(secure.opened.length, 1);
  assert.ok(!secure.log.has("W", /plain HTTP|INSECURE/), "no plain-HTTP warning for https");
});
