import { BOOTS_KEY, BootTimeline } from "../../modules/capture/boot-timeline";
import { parseRingKey, ringKey } from "../../modules/capture/ring-key";
import { readingCount } from "../../modules/capture/transcoder";
import { silentLogger } from "../../modules/ports";
import { assert, test } from "../harness/index";
import { CaptureRig, MemoryKv } from "../support/sensors-rig";

test("ring keys: built and parsed back, parameters included, foreign keys refused", () => {
  assert.equal(
    ringKey("rdk:component:board", "local", "Analogs", "a1"),
    "rdk:component:board/local/Analogs/a1",
  );
  assert.deepEqual(parseRingKey("rdk:component:board/local/Analogs/a1"), {
    componentType: "rdk:component:board",
    componentName: "local",
    method: "Analogs",
    parameter: "a1",
  });
  assert.deepEqual(parseRingKey("rdk:component:sensor/t/Readings")?.parameter, "");
  for (const bad of ["", "sensor/t/Readings", "a:b/x", "a:b//Readings", "a:b/x/y/z/w"]) {
    assert.equal(parseRingKey(bad), undefined, bad);
  }
});

test("metadata: per ring key, with the method's parameters, also after the collector is gone", () => {
  const rig = new CaptureRig();
  rig.apply([
    {
      name: "local",
      api: "rdk:component:board",
      model: "fake",
      methods: [{ method: "Gpios", capture_frequency_hz: 1, additional_params: { pin_name: "p7" } }],
    },
  ]);
  const key = "rdk:component:board/local/Gpios/p7";
  assert.deepEqual(rig.capture.metadata(key), {
    componentType: "rdk:component:board",
    componentName: "local",
    method: "Gpios",
    parameter: "p7",
    additionalParams: { pin_name: "p7" },
  });
  rig.apply([]);
  assert.deepEqual(rig.capture.metadata(key)?.additionalParams, { pin_name: "p7" });
  assert.equal(rig.capture.metadata("not a key"), undefined);
});

test("a sensor that changes its fields mid-run starts a new block; every reading keeps its own keys", () => {
  const rig = new CaptureRig();
  rig.script.fields = (n, out) => {
    out.number("n", n);
    if (n > 10) out.string("phase", n % 2 ? "odd" : "even");
    if (n > 20) {
      out.beginObject("nested");
      out.value("list", [n, null, true]);
      out.endObject();
    }
  };
  rig.apply([
    {
      name: "s",
      api: "rdk:component:sensor",
      model: "scripted",
      methods: [{ method: "Readings", capture_frequency_hz: 10 }],
    },
  ]);
  rig.clock.advance(2950);
  rig.capture.flush();
  const key = "rdk:component:sensor/s/Readings";
  const readings = rig.stored(key).map((r) => r.payload.readings as Record<string, unknown>);
  assert.equal(readings.length, 30);
  assert.deepEqual(readings[9], { n: 10 });
  assert.deepEqual(readings[10], { n: 11, phase: "odd" });
  assert.deepEqual(readings[29], { n: 30, phase: "even", nested: { list: [30, null, true] } });
  const records = rig.store.ring(key)!.read(1 << 20)!.records;
  assert.deepEqual(records.map(readingCount), [10, 10, 10], "one block per shape");
});

test("boot timeline: ids count up across boots; an unreadable entry starts a fresh timeline with a warning", () => {
  const kv = new MemoryKv();
  const a = new BootTimeline(kv, silentLogger);
  const b = new BootTimeline(kv, silentLogger);
  assert.equal(b.bootId, a.bootId + 1);
  kv.set(BOOTS_KEY, "{not json");
  const warnings: string[] = [];
  const c = new BootTimeline(kv, { ...silentLogger, warn: (m) => warnings.push(m) });
  assert.equal(c.bootId, 1);
  assert.equal(warnings.length, 1);
  assert.ok(JSON.parse(kv.get(BOOTS_KEY)!).n === 2, "rewritten in good shape");
  // The persisted entry stays small (≤ 4000 bytes for NVS) however many boots pass.
  for (let i = 0; i < 100; i++) new BootTimeline(kv, silentLogger).observe(5000, 1.7e12);
  assert.ok(kv.get(BOOTS_KEY)!.length < 4000);
});
