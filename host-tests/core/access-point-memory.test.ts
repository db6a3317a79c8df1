// The remembered access point (modules/app/access-point-memory.ts): a fast
// association hint written once per change, and untrusted when read back.

import {
  ACCESS_POINT_KEY,
  AccessPointMemory,
  accessPointHint,
  bssidBytes,
} from "../../modules/app/access-point-memory";
import { assert, test } from "../harness/index";
import { MemoryKv, RecordingLog } from "./boot-fixtures";

test("access point: none known at first; an association is remembered for the next start", () => {
  const kv = new MemoryKv();
  const first = new AccessPointMemory(kv, new RecordingLog(), "home");
  assert.equal(first.hint(), undefined);
  first.connected("AA:bb:0C:dd:ee:01", 6);
  const next = new AccessPointMemory(kv, new RecordingLog(), "home");
  assert.deepEqual(next.hint(), { bssid: "aa:bb:0c:dd:ee:01", channel: 6 });
  assert.deepEqual([...bssidBytes(next.hint()!)], [0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x01]);
});

test("access point: written once per change, not at every association", () => {
  const kv = new MemoryKv();
  let writes = 0;
  const counting = {
    ...kv,
    get: (k: string) => kv.get(k),
    delete: (k: string) => kv.delete(k),
    set: (k: string, v: string) => {
      writes++;
      kv.set(k, v);
    },
  };
  for (let wake = 0; wake < 50; wake++) {
    const memory = new AccessPointMemory(counting, new RecordingLog(), "home");
    memory.connected("aa:bb:cc:dd:ee:01", wake < 30 ? 6 : 11);
  }
  assert.equal(writes, 2, "the first association and the channel change");
});

test("access point: a failed hinted association forgets it, so the retry scans", () => {
  const kv = new MemoryKv();
  new AccessPointMemory(kv, new RecordingLog(), "home").connected("aa:bb:cc:dd:ee:01", 6);
  const log = new RecordingLog();
  const memory = new AccessPointMemory(kv, log, "home");
  assert.ok(memory.hint());
  memory.failed();
  assert.equal(memory.hint(), undefined);
  assert.equal(kv.get(ACCESS_POINT_KEY), undefined);
  assert.ok(log.lines.some((l) => l.includes("scanning all channels")));
  assert.equal(new AccessPointMemory(kv, new RecordingLog(), "home").hint(), undefined);
});

test("access point: another network's hint is not used (the WiFi settings changed)", () => {
  const kv = new MemoryKv();
  new AccessPointMemory(kv, new RecordingLog(), "home").connected("aa:bb:cc:dd:ee:01", 6);
  const memory = new AccessPointMemory(kv, new RecordingLog(), "office");
  assert.equal(memory.hint(), undefined);
  assert.equal(memory.rejected, 0, "stale, not damaged");
  assert.equal(kv.get(ACCESS_POINT_KEY), undefined);
});

test("access point: damaged values read back are ignored, counted, logged and deleted", () => {
  const bad = [
    "",
    "{",
    "null",
    "[]",
    '"home"',
    '{"bssid":"aa:bb:cc:dd:ee:01","channel":6}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee","channel":6}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:zz","channel":6}',
    '{"ssid":"home","bssid":"00:00:00:00:00:00","channel":6}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:01","channel":0}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:01","channel":15}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:01","channel":6.5}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:01","channel":"6"}',
    '{"ssid":"home","bssid":"aa:bb:cc:dd:ee:01","channel":1e309}',
    `{"ssid":"home","bssid":"${"a".repeat(3000)}","channel":6}`,
  ];
  for (const text of bad) {
    const kv = new MemoryKv();
    kv.set(ACCESS_POINT_KEY, text);
    const log = new RecordingLog();
    const memory = new AccessPointMemory(kv, log, "home");
    assert.equal(memory.hint(), undefined, text.slice(0, 60));
    assert.equal(memory.rejected, 1, text.slice(0, 60));
    assert.equal(kv.get(ACCESS_POINT_KEY), undefined, text.slice(0, 60));
    assert.equal(log.lines.filter((l) => l.includes("is damaged")).length, 1, text.slice(0, 60));
  }
});

test("access point: a store that throws is survived (no hint, the association scans)", () => {
  const log = new RecordingLog();
  const broken = {
    get: (): string => {
      throw new Error("nvs read error");
    },
    set: (): void => {
      throw new Error("nvs full");
    },
    delete: (): void => {
      throw new Error("nvs gone");
    },
  };
  const memory = new AccessPointMemory(broken, log, "home");
  assert.equal(memory.hint(), undefined);
  memory.connected("aa:bb:cc:dd:ee:01", 6);
  assert.deepEqual(memory.hint(), { bssid: "aa:bb:cc:dd:ee:01", channel: 6 }, "kept for this start");
  memory.failed();
  assert.equal(memory.hint(), undefined);
  assert.ok(log.lines.some((l) => l.includes("nvs read error")));
  assert.ok(log.lines.some((l) => l.includes("nvs full")));
});

test("access point: what the platform reports is checked before it is kept", () => {
  assert.equal(accessPointHint(undefined, 6), undefined);
  assert.equal(accessPointHint("aa:bb:cc:dd:ee:01", undefined), undefined);
  assert.equal(accessPointHint("ff:ff:ff:ff:ff:ff", 6), undefined);
  assert.deepEqual(accessPointHint("AA:BB:CC:DD:EE:01", 14), { bssid: "aa:bb:cc:dd:ee:01", channel: 14 });
  const kv = new MemoryKv();
  const memory = new AccessPointMemory(kv, new RecordingLog(), "home");
  memory.connected("not a bssid", 6);
  assert.equal(kv.get(ACCESS_POINT_KEY), undefined);
});
