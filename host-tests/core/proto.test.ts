// Device codecs on their own: round trips, exact sizes, and bounded decoding of hostile input.
// Runs in the Node lane and inside XS.
import { decodeAuthenticateResponse, encodeAuthenticateRequest } from "../../modules/proto/auth";
import { decodeConfigResponse } from "../../modules/proto/config";
import { ProtoDecodeError, ProtoReader, readUtf8 } from "../../modules/proto/reader";
import {
  beginSensorData,
  decodeSensorData,
  encodeSensorData,
  endSensorData,
  StructWriter,
} from "../../modules/proto/sensor_data";
import { readStructFields, writeStructFields } from "../../modules/proto/struct";
import { readTimestampMs, writeTimestamp } from "../../modules/proto/timestamp";
import {
  appendSensorData,
  beginUploadRequest,
  DATA_TYPE_TABULAR_SENSOR,
  encodeUploadRequest,
  sensorDataFieldSize,
  type UploadMetadata,
  uploadMetadataFieldSize,
  uploadRequestSize,
} from "../../modules/proto/upload";
import { encodeUtf8, longerThan, ProtoWriter, utf8Length, writeUtf8 } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";
import { randomEpochMs, randomObject, randomString } from "../support/random-json";

function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Decode or throw; any error other than ProtoDecodeError fails the test. */
function decodesOrRejectsCleanly(fn: () => unknown): "ok" | "rejected" {
  try {
    fn();
    return "ok";
  } catch (error) {
    if (error instanceof ProtoDecodeError) return "rejected";
    throw new Error(`decoder threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
}

test("int64 varints round-trip, negatives included", () => {
  const values = [
    0,
    1,
    127,
    128,
    300,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -1,
    -2,
    -128,
    -(2 ** 31),
    -(2 ** 40),
    -(2 ** 53),
  ];
  for (const v of values) {
    const w = new ProtoWriter(4);
    w.varint(v);
    const r = new ProtoReader(copy(w.finish()));
    assert.equal(r.int64(), v, `value ${v}`);
    assert.equal(r.more(), false);
  }
});

test("timestamps round-trip to the millisecond (and sub-ms) including before 1970", () => {
  const rng = new Random(7);
  for (let i = 0; i < 500; i++) {
    const ms = i % 10 === 0 ? randomEpochMs(rng) + 0.25 : randomEpochMs(rng);
    const w = new ProtoWriter(8);
    writeTimestamp(w, 1, ms);
    const r = new ProtoReader(copy(w.finish()));
    r.tag();
    const outer = r.enter();
    const back = readTimestampMs(r);
    r.leave(outer);
    assert.ok(Math.abs(back - ms) < 1e-6, `ms ${ms} came back as ${back}`);
  }
});

test("UTF-8: the hand-written decoder agrees with the encoder on random strings", () => {
  const rng = new Random(11);
  for (let i = 0; i < 1000; i++) {
    const s = randomString(rng, 20);
    const buf = new Uint8Array(utf8Length(s));
    assert.equal(writeUtf8(s, buf, 0), buf.length);
    assert.equal(readUtf8(buf, 0, buf.length), s);
  }
  // Invalid sequences become U+FFFD, never an exception.
  assert.equal(readUtf8(new Uint8Array([0x61, 0xff, 0xc3, 0x62, 0xe2, 0x82]), 0, 6), "a\ufffd\ufffdb\ufffd");
});

test("UTF-8: encodeUtf8 stops at its limit (-1) and writeUtf8 refuses a buffer too small", () => {
  // 1-, 2-, 3- and 4-byte characters: each limit short of the full length is refused,
  // and nothing is written at or past the limit.
  const s = "a\u00e9\u6e29\u{1F600}";
  const n = utf8Length(s);
  assert.equal(n, 10);
  for (let limit = 0; limit < n; limit++) {
    const buf = new Uint8Array(n + 4).fill(0xee);
    assert.equal(encodeUtf8(s, buf, 2, 2 + limit), -1, `limit ${limit}`);
    for (let i = 2 + limit; i < buf.length; i++)
      assert.equal(buf[i], 0xee, `limit ${limit}: byte ${i} written`);
  }
  const buf = new Uint8Array(n + 2);
  assert.equal(encodeUtf8(s, buf, 2, buf.length), buf.length);
  assert.equal(readUtf8(buf, 2, buf.length), s);
  // A limit past the buffer is the buffer's end.
  assert.equal(encodeUtf8(s, new Uint8Array(n - 1), 0, 100), -1);
  assert.equal(encodeUtf8("", new Uint8Array(0), 0, 0), 0);
  let threw = false;
  try {
    writeUtf8(s, new Uint8Array(n - 1), 0);
  } catch (error) {
    threw = error instanceof RangeError;
  }
  assert.ok(threw, "writeUtf8 into a short buffer is a RangeError");
  for (const [text, n, want] of [
    ["", 0, false],
    ["a", 0, true],
    ["abc", 2, true],
    ["abc", 3, false],
    ["\u{1F600}", 1, true],
  ] as const) {
    assert.equal(longerThan(text, n), want, `${JSON.stringify(text)} longer than ${n}`);
  }
});

test("ProtoWriter.string: every length around the 127-character fast path and a nearly full buffer", () => {
  // Reference: the length prefix as a varint, then the bytes encodeUtf8 writes.
  const reference = (s: string): number[] => {
    const body = new Uint8Array(utf8Length(s));
    writeUtf8(s, body, 0);
    const out = [0x0a];
    let v = body.length;
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v, ...body);
    return out;
  };
  for (const unit of ["x", "\u00e9", "\u{1F600}"]) {
    for (const count of [0, 1, 63, 64, 126, 127, 128, 129, 300]) {
      const s = unit.repeat(count) + (count % 2 ? "" : "z");
      const want = reference(s);
      // Capacities that leave the fast path no room, some room, or all it needs.
      for (const capacity of [1, 2, 5, 64, 130, 1024]) {
        const w = new ProtoWriter(capacity);
        w.string(1, s);
        assert.deepEqual(
          Array.from(w.finish()),
          want,
          `${count} × ${JSON.stringify(unit)} at capacity ${capacity}`,
        );
      }
    }
  }
});

test("Struct: random objects survive encode → decode", () => {
  const rng = new Random(3);
  const w = new ProtoWriter(64);
  for (let i = 0; i < 1000; i++) {
    const obj = randomObject(rng, 3);
    w.reset();
    writeStructFields(w, obj);
    const back = readStructFields(new ProtoReader(copy(w.finish())));
    assert.deepEqual(back, obj, `iteration ${i}`);
  }
});

test("Struct: a '__proto__' key is data, not a prototype", () => {
  const w = new ProtoWriter();
  const entry = w.begin(1);
  w.string(1, "__proto__");
  const v = w.begin(2);
  w.double(2, 5);
  w.end(v);
  w.end(entry);
  const back = readStructFields(new ProtoReader(copy(w.finish())));
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ["__proto__"]);
  assert.equal(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, 5);
});

test("SensorData: StructWriter (the capture hot path) writes exactly what encodeSensorData writes", () => {
  const rng = new Random(5);
  const a = new ProtoWriter(32);
  const b = new ProtoWriter(32);
  const sw = new StructWriter(b);
  for (let i = 0; i < 500; i++) {
    const t0 = randomEpochMs(rng);
    const t1 = t0 + rng.int(100);
    const key = rng.int(3) === 0 ? randomString(rng, 200) : rng.pick(["x", "temperature", "k".repeat(130)]);
    const inner: Record<string, number | string | boolean | null> = {
      [key]: rng.float() * 100,
      name: randomString(rng),
      ok: rng.int(2) === 0,
      gone: null,
    };
    a.reset();
    const expected = encodeSensorData(a, t0, t1, { readings: inner, n: -3 });
    b.reset();
    const m = beginSensorData(b, t0, t1);
    sw.beginObject("readings");
    sw.number(key, inner[key] as number);
    sw.string("name", inner.name as string);
    sw.bool("ok", inner.ok as boolean);
    sw.null("gone");
    sw.endObject();
    sw.number("n", -3);
    endSensorData(b, m);
    assert.deepEqual(b.finish(), expected, `iteration ${i}`);
    const decoded = decodeSensorData(copy(expected));
    assert.equal(decoded.timeRequestedMs, t0);
    assert.equal(decoded.timeReceivedMs, t1);
    assert.deepEqual(decoded.struct, { readings: inner, n: -3 });
  }
});

test("StructWriter: keys around the cached-key limit keep exact bytes", () => {
  const a = new ProtoWriter(32);
  const b = new ProtoWriter(32);
  const sw = new StructWriter(b);
  for (let n = 100; n < 140; n++) {
    for (const key of ["k".repeat(n), "é".repeat(n >> 1)]) {
      a.reset();
      const expected = encodeSensorData(a, 1, 2, { [key]: 1.5, o: { [key]: true } });
      b.reset();
      const m = beginSensorData(b, 1, 2);
      sw.number(key, 1.5);
      sw.beginObject("o");
      sw.bool(key, true);
      sw.endObject();
      endSensorData(b, m);
      assert.deepEqual(b.finish(), expected, `key of ${key.length} chars`);
    }
  }
});

test("upload request: the size functions predict the encoded length exactly, streaming form equals one-shot", () => {
  const rng = new Random(9);
  const w = new ProtoWriter(64);
  const s = new ProtoWriter(64);
  for (let i = 0; i < 300; i++) {
    const meta: UploadMetadata = {
      partId: randomString(rng, 40),
      componentType: "rdk:component:sensor",
      componentName: randomString(rng, 30),
      methodName: rng.pick(["Readings", "AngularVelocity", ""]),
      type: DATA_TYPE_TABULAR_SENSOR,
      tags: rng.int(2) ? [randomString(rng), randomString(rng, 300)] : [],
    };
    const data: Uint8Array[] = [];
    const n = rng.int(40);
    for (let j = 0; j < n; j++) {
      w.reset();
      data.push(copy(encodeSensorData(w, randomEpochMs(rng), randomEpochMs(rng), randomObject(rng, 2, 8))));
    }
    w.reset();
    const req = encodeUploadRequest(w, meta, data);
    assert.equal(req.length, uploadRequestSize(meta, data));
    let sum = uploadMetadataFieldSize(meta);
    for (const d of data) sum += sensorDataFieldSize(d.length);
    assert.equal(sum, req.length);
    s.reset();
    beginUploadRequest(s, meta, 5);
    for (const d of data) appendSensorData(s, d);
    assert.deepEqual(s.finish().subarray(5), req);
    assert.deepEqual(s.finish().subarray(0, 5), new Uint8Array(5));
  }
});

test("auth: request fields and response token", () => {
  const w = new ProtoWriter(8);
  const req = encodeAuthenticateRequest(w, "part", "robot-secret", "s");
  // entity=1 "part", credentials=2 {type=1 "robot-secret", payload=2 "s"}
  const expected = [0x0a, 4, ...[..."part"].map((c) => c.charCodeAt(0)), 0x12, 17, 0x0a, 12];
  assert.deepEqual(Array.from(req.subarray(0, expected.length)), expected);
  const token = "eyJhbGciOi.é.x";
  const resp = new ProtoWriter();
  resp.uint(7, 99); // an unknown field first: skipped
  resp.string(1, token);
  assert.equal(decodeAuthenticateResponse(copy(resp.finish())), token);
});

function sampleConfig(): Uint8Array {
  const w = new ProtoWriter();
  const cfg = w.begin(1);
  const cloud = w.begin(1);
  w.string(1, "part-1");
  w.string(8, "secret-not-read");
  w.end(cloud);
  const comp = w.begin(3);
  w.string(1, "env");
  w.string(3, "sensor");
  w.string(4, "fake");
  const sc = w.begin(7);
  w.string(1, "data_manager");
  const attrs = w.begin(2);
  writeStructFields(w, { capture_methods: [{ method: "Readings", capture_frequency_hz: 2 }] });
  w.end(attrs);
  w.end(sc);
  const a = w.begin(8);
  writeStructFields(w, { pin: 4 });
  w.end(a);
  w.end(comp);
  const svc = w.begin(5);
  w.string(1, "dm");
  w.string(9, "rdk:service:data_manager");
  const sa = w.begin(4);
  writeStructFields(w, { sync_interval_mins: 0.5 });
  w.end(sa);
  w.end(svc);
  w.string(15, "rev-7");
  w.end(cfg);
  return copy(w.finish());
}

test("config: decodes components, service_configs, services and revision; derives api from type", () => {
  const c = decodeConfigResponse(sampleConfig());
  assert.equal(c.part_id, "part-1");
  assert.equal(c.revision, "rev-7");
  assert.equal(c.components.length, 1);
  const env = c.components[0]!;
  assert.equal(env.api, "rdk:component:sensor");
  assert.equal(env.model, "fake");
  assert.deepEqual(env.attributes, { pin: 4 });
  assert.deepEqual(env.service_configs, [
    {
      type: "data_manager",
      attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 2 }] },
    },
  ]);
  assert.equal(c.services[0]!.type, "data_manager");
  assert.deepEqual(c.services[0]!.attributes, { sync_interval_mins: 0.5 });
});

test("hostile input: every truncation of a config is decoded or rejected cleanly", () => {
  const full = sampleConfig();
  let rejected = 0;
  for (let n = 0; n < full.length; n++) {
    if (decodesOrRejectsCleanly(() => decodeConfigResponse(full.subarray(0, n))) === "rejected") rejected++;
  }
  assert.ok(rejected > full.length / 2, `only ${rejected} of ${full.length} truncations rejected`);
});

test("hostile input: every single-byte corruption is decoded or rejected cleanly", () => {
  const full = sampleConfig();
  const rng = new Random(21);
  for (let i = 0; i < full.length * 4; i++) {
    const bad = copy(full);
    bad[rng.int(bad.length)] = rng.u32() & 0xff;
    decodesOrRejectsCleanly(() => decodeConfigResponse(bad));
    decodesOrRejectsCleanly(() => decodeSensorData(bad));
  }
});

test("hostile input: random bytes are decoded or rejected cleanly", () => {
  const rng = new Random(99);
  for (let i = 0; i < 2000; i++) {
    const bytes = rng.bytes(rng.int(64));
    decodesOrRejectsCleanly(() => decodeConfigResponse(bytes));
    decodesOrRejectsCleanly(() => decodeSensorData(bytes));
    decodesOrRejectsCleanly(() => decodeAuthenticateResponse(bytes));
  }
});

test("hostile input: a length of 4 GiB is rejected without allocating it", () => {
  // ConfigResponse.config with length 0xFFFFFFFF and 3 bytes present.
  const bytes = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
  assert.throws(() => decodeConfigResponse(bytes), /length 4294967295 exceeds the 3 bytes left/);
});

test("hostile input: nesting deeper than the limit is rejected, not recursed into", () => {
  // Value{list_value{values:[Value{list_value{…}}]}} 5000 deep, built inside-out.
  let inner: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 5000; i++) {
    const w = new ProtoWriter(inner.length + 16);
    const list = w.begin(6);
    w.bytes(1, inner);
    w.end(list);
    inner = copy(w.finish());
  }
  // Wrap as a Struct entry {"k": <deep value>} inside SensorData.struct.
  const w = new ProtoWriter(inner.length + 32);
  const s = w.begin(2);
  const e = w.begin(1);
  w.string(1, "k");
  w.bytes(2, inner);
  w.end(e);
  w.end(s);
  assert.throws(() => decodeSensorData(copy(w.finish())), /nesting deeper than 32/);
});

test("hostile input: a known field with the wrong wire type is rejected", () => {
  // ConfigResponse.config as a varint instead of a message.
  assert.throws(
    () => decodeConfigResponse(new Uint8Array([0x08, 0x01])),
    /field 1 has wire type 0, expected 2/,
  );
  // RobotConfig.revision (15) as fixed64.
  assert.throws(
    () => decodeConfigResponse(new Uint8Array([0x0a, 0x09, 0x79, 1, 2, 3, 4, 5, 6, 7, 8])),
    /field 15 has wire type 1, expected 2/,
  );
  // Group wire types are refused.
  assert.throws(() => decodeSensorData(new Uint8Array([0x0b])), /unsupported wire type 3/);
  // An 11-byte varint.
  assert.throws(
    () =>
      decodeSensorData(
        new Uint8Array([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      ),
    /varint longer than 10 bytes/,
  );
});

test("Struct encoding refuses cycles instead of overflowing the stack", () => {
  const a: Record<string, unknown> = { x: 1 };
  a.self = a;
  assert.throws(() => writeStructFields(new ProtoWriter(), a), /nested deeper/);
});

test("hostile input: a flood of tiny values is refused past the value budget", () => {
  // A config whose one component's attributes hold 20000 entries {"": []} (5 bytes each).
  const w = new ProtoWriter();
  const cfg = w.begin(1);
  const comp = w.begin(3);
  const attrs = w.begin(8);
  for (let i = 0; i < 20000; i++) {
    const e = w.begin(1);
    const v = w.begin(2);
    const l = w.begin(6);
    w.end(l);
    w.end(v);
    w.end(e);
  }
  w.end(attrs);
  w.end(comp);
  w.end(cfg);
  const bytes = copy(w.finish());
  assert.throws(() => decodeConfigResponse(bytes), /too many values in one message/);
  // With a budget to match, the same bytes decode.
  assert.equal(Object.keys(decodeConfigResponse(bytes, 32, 30000).components[0]!.attributes).length, 1);
});
