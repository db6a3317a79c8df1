// The on-flash block → SensorData transcoder against protobuf-es: byte-identical output for random
// readings of every method, lossless doubles, and the size goal (flash ≤ 0.5 × SensorData).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { BlockWriter, READING_OK } from "../../modules/capture/block-writer";
import {
  KIND_ANALOG,
  KIND_ANGULAR_VELOCITY,
  KIND_COMPASS_HEADING,
  KIND_GEO_POSITION,
  KIND_GPIO,
  KIND_LINEAR_ACCELERATION,
  KIND_LINEAR_VELOCITY,
  KIND_MOTOR_POSITION,
  KIND_READINGS,
  KIND_SERVO_POSITION,
  KIND_TICKS,
  kindArity,
} from "../../modules/capture/methods";
import { BlockFormatError, readingCount, SensorDataTranscoder } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { SensorDataSchema } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";
import { Random } from "../harness/random";
import { randomNumber, randomObject } from "../support/random-json";

const wallOffsets = { offsetUs: () => 0 };

function timestamp(us: number) {
  const seconds = Math.floor(us / 1e6);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (us - seconds * 1e6) * 1000 });
}

/** protobuf-es's bytes for the same readings, each as a sensor_contents (field 2) entry. */
function reference(readings: { req: number; recv: number; payload: JsonObject }[]): Uint8Array {
  const w = new ProtoWriter();
  for (const r of readings) {
    const message = create(SensorDataSchema, {
      metadata: { timeRequested: timestamp(r.req), timeReceived: timestamp(r.recv) },
      data: { case: "struct", value: r.payload },
    });
    w.bytes(2, toBinary(SensorDataSchema, message));
  }
  return w.finish().slice();
}

function transcode(block: BlockWriter): Uint8Array {
  block.seal();
  const record = block.bytes.slice(0, block.ends[0]);
  const w = new ProtoWriter(64);
  const n = new SensorDataTranscoder(wallOffsets).writeSensorData(record, w, 2);
  assert.equal(n, block.count);
  assert.equal(readingCount(record), block.count);
  return w.finish().slice();
}

function fixedPayload(kind: number, v: Float64Array): JsonObject {
  const xyz = { x: v[0]!, y: v[1]!, z: v[2]! };
  switch (kind) {
    case KIND_ANGULAR_VELOCITY:
      return { angular_velocity: xyz };
    case KIND_LINEAR_ACCELERATION:
      return { linear_acceleration: xyz };
    case KIND_LINEAR_VELOCITY:
      return { linear_velocity: xyz };
    case KIND_GEO_POSITION:
      return { coordinate: { latitude: v[0]!, longitude: v[1]! }, altitude_m: v[2]! };
    case KIND_COMPASS_HEADING:
    case KIND_ANALOG:
      return { value: v[0]! };
    case KIND_GPIO:
      return { high: v[0] !== 0 };
    case KIND_TICKS:
      return { ticks: v[0]! };
    case KIND_MOTOR_POSITION:
      return { position: v[0]! };
    case KIND_SERVO_POSITION:
      return { position_deg: v[0]! };
  }
  throw new Error(`kind ${kind}`);
}

test("transcoder: every fixed-shape method is byte-identical to protobuf-es (random doubles, times)", () => {
  const rng = new Random(1234);
  const kinds = [
    KIND_ANGULAR_VELOCITY,
    KIND_LINEAR_ACCELERATION,
    KIND_LINEAR_VELOCITY,
    KIND_GEO_POSITION,
    KIND_COMPASS_HEADING,
    KIND_ANALOG,
    KIND_GPIO,
    KIND_TICKS,
    KIND_MOTOR_POSITION,
    KIND_SERVO_POSITION,
  ];
  for (let round = 0; round < 300; round++) {
    const kind = kinds[round % kinds.length]!;
    const arity = kindArity(kind);
    const block = new BlockWriter(kind, 1024);
    const expected: { req: number; recv: number; payload: JsonObject }[] = [];
    let req = 1.6e15 + rng.int(2 ** 31) * 1000 + rng.int(1_000_000);
    const values = new Float64Array(arity);
    while (block.fitsFixed(true, arity)) {
      for (let i = 0; i < arity; i++) values[i] = kind === KIND_GPIO ? rng.int(2) : randomNumber(rng);
      const recv = req + rng.int(5000);
      assert.ok(block.appendFixed(true, 7, req, recv, 0, values, arity));
      expected.push({ req, recv, payload: fixedPayload(kind, values) });
      // Mostly forward, sometimes a wall-clock step backwards.
      req += rng.int(10) === 0 ? -rng.int(2_000_000) : rng.int(20_000_000);
    }
    assert.ok(block.count > 1);
    assert.deepEqual(transcode(block), reference(expected), `kind ${kind} round ${round}`);
  }
});

test("transcoder: random Readings maps (nested, lists, strings, UTF-8, null, bool, -0) are byte-identical", () => {
  const rng = new Random(99);
  let compared = 0;
  for (let round = 0; round < 400; round++) {
    const object = randomObject(rng, 2, 4);
    const block = new BlockWriter(KIND_READINGS, 32 * 1024);
    const req = 1.7e15 + rng.int(1e9);
    block.beginReading();
    for (const key of Object.keys(object)) block.value(key, object[key]);
    const problem = block.endReading();
    if (problem !== READING_OK) continue; // too many fields for one schema: counted as a sensor error in capture
    assert.ok(block.commitReading(true, 1, req, req + 250, 0));
    assert.deepEqual(
      transcode(block),
      reference([{ req, recv: req + 250, payload: { readings: object as JsonObject } }]),
    );
    compared++;
  }
  assert.ok(compared > 300, `${compared} compared`);
});

test("transcoder: a block of same-shaped Readings stores names once and decodes every reading", () => {
  const block = new BlockWriter(KIND_READINGS, 4096);
  const expected: { req: number; recv: number; payload: JsonObject }[] = [];
  let req = 1.7e15;
  for (let i = 0; i < 40; i++) {
    block.beginReading();
    block.number("temperature", 20 + i / 7);
    block.beginObject("wind");
    block.number("speed", i);
    block.string("dir", i % 2 ? "NE" : "Süd");
    block.endObject();
    block.bool("ok", i % 3 === 0);
    block.null("spare");
    block.value("list", [i, "x", null, true, { a: [] }]);
    assert.equal(block.endReading(), READING_OK);
    assert.equal(block.schemaChanged, i === 0);
    assert.ok(block.fitsReading(true));
    assert.ok(block.commitReading(true, 1, req, req + 10, 0));
    expected.push({
      req,
      recv: req + 10,
      payload: {
        readings: {
          temperature: 20 + i / 7,
          wind: { speed: i, dir: i % 2 ? "NE" : "Süd" },
          ok: i % 3 === 0,
          spare: null,
          list: [i, "x", null, true, { a: [] }],
        },
      },
    });
    req += 1000;
  }
  const bytes = transcode(block);
  assert.deepEqual(bytes, reference(expected));
  // A reading with other keys does not fit this block: it needs a new one with its own schema.
  block.clear();
  block.beginReading();
  block.number("temperature", 1);
  assert.equal(block.endReading(), READING_OK);
  assert.equal(block.schemaChanged, true);
});

test("transcoder: SensorData decoded by protobuf-es carries the exact doubles and microsecond times", () => {
  const block = new BlockWriter(KIND_ANGULAR_VELOCITY, 256);
  const v = new Float64Array([Math.PI, -0, 5e-324]);
  block.appendFixed(true, 1, 1_700_000_000_123_456, 1_700_000_000_124_000, 0, v, 3);
  const bytes = transcode(block);
  // Strip the field-2 tag and length.
  const message = fromBinary(SensorDataSchema, bytes.subarray(2));
  assert.equal(message.metadata?.timeRequested?.seconds, 1_700_000_000n);
  assert.equal(message.metadata?.timeRequested?.nanos, 123_456_000);
  assert.equal(message.metadata?.timeReceived?.nanos, 124_000_000);
  assert.equal(message.data.case, "struct");
  const payload = message.data.value as { angular_velocity: { x: number; y: number; z: number } };
  assert.equal(payload.angular_velocity.x, Math.PI);
  assert.ok(Object.is(payload.angular_velocity.y, -0));
  assert.equal(payload.angular_velocity.z, 5e-324);
});

test("transcoder: malformed blocks throw BlockFormatError and leave the writer where it was", () => {
  const block = new BlockWriter(KIND_LINEAR_VELOCITY, 256);
  const v = new Float64Array([1, 2, 3]);
  block.appendFixed(true, 1, 1.7e15, 1.7e15, 0, v, 3);
  block.appendFixed(true, 1, 1.7e15 + 5, 1.7e15 + 9, 0, v, 3);
  block.seal();
  const good = block.bytes.slice(0, block.ends[0]);
  const transcoder = new SensorDataTranscoder(wallOffsets);
  const cases: Uint8Array[] = [
    good.subarray(0, good.length - 3), // truncated
    Uint8Array.from([...good, 0]), // trailing byte
    Uint8Array.from(good, (b, i) => (i === 0 ? 0x00 : b)), // bad magic
    Uint8Array.from(good, (b, i) => (i === 1 ? 99 : b)), // unknown kind
    new Uint8Array(3),
  ];
  for (const bad of cases) {
    const w = new ProtoWriter();
    w.uint(1, 5);
    const before = w.pos;
    assert.throws(() => transcoder.writeSensorData(bad, w, 2), BlockFormatError);
    assert.equal(w.pos, before);
  }
  // Readings: a schema that never closes its object.
  const r = new BlockWriter(KIND_READINGS, 256);
  r.beginReading();
  r.beginObject("o");
  r.number("a", 1);
  r.endObject();
  r.endReading();
  r.commitReading(true, 1, 1.7e15, 1.7e15, 0);
  r.seal();
  const readings = r.bytes.slice(0, r.ends[0]);
  const endAt = readings.indexOf(6); // FIELD_END in the schema
  const broken = Uint8Array.from(readings, (b, i) => (i === endAt ? 1 : b));
  assert.throws(() => transcoder.writeSensorData(broken, new ProtoWriter(), 2), BlockFormatError);
});

test("transcoder: steady runs (copied and patched readings) are byte-identical across seconds, nanos sizes and escapes", () => {
  const rng = new Random(4242);
  const steps = [5000, 1000, 3333, 10_000, 250_000, 999_999, 1_000_001, 7];
  const kinds = [
    KIND_ANGULAR_VELOCITY,
    KIND_LINEAR_ACCELERATION,
    KIND_GEO_POSITION,
    KIND_ANALOG,
    KIND_READINGS,
  ];
  let readings = 0;
  for (let round = 0; round < 120; round++) {
    const kind = kinds[round % kinds.length]!;
    const arity = kind === KIND_READINGS ? 3 : kindArity(kind);
    const step = steps[round % steps.length]!;
    const writer = new BlockWriter(kind, 256 + rng.int(1800));
    // Start anywhere in a second, often just before its end or a nanos-size boundary.
    const second = 1_600_000_000 + rng.int(2 ** 28);
    const into = [rng.int(1e6), 1e6 - 3 * step, 268_435 - step, 2_097 - step, 16 - step, 0][rng.int(6)]!;
    let req = second * 1e6 + Math.max(0, into);
    let code = rng.int(1000);
    for (let block = 0; block < 3; block++) {
      const expected: { req: number; recv: number; payload: JsonObject }[] = [];
      const values = new Float64Array(arity);
      for (;;) {
        // Column 0: whole numbers, small steps and rare long jumps; 1: raw doubles; 2: two decimals, rarely not.
        code += rng.int(20) === 0 ? rng.int(2 ** 40) - 2 ** 39 : rng.int(5) - 2;
        values[0] = code;
        if (arity > 1) values[1] = randomNumber(rng);
        if (arity > 2) values[2] = rng.int(30) === 0 ? rng.int(1e9) / 3 : rng.int(100_000) / 100;
        const jitter = rng.int(25) === 0 ? 1 + rng.int(100) : 0;
        const recv = rng.int(25) === 0 ? req + 1 + rng.int(900) : req;
        let added: number;
        if (kind === KIND_READINGS) {
          writer.beginReading();
          writer.number("a", values[0]!);
          writer.number("b", values[1]!);
          writer.number("c", values[2]!);
          assert.equal(writer.endReading(), READING_OK);
          added = writer.fitsReading(true) && writer.commitReading(true, 1, req, recv, 0) ? 1 : 0;
        } else added = writer.addFixed(true, 1, req, recv, 0, values, arity);
        if (added === 0) break;
        assert.equal(added, 1);
        const payload =
          kind === KIND_READINGS
            ? { readings: { a: values[0]!, b: values[1]!, c: values[2]! } }
            : fixedPayload(kind, values);
        expected.push({ req, recv, payload });
        req += step + jitter;
      }
      writer.seal();
      const record = writer.bytes.slice(0, writer.ends[0]);
      const want = reference(expected);
      // A growable writer (the record is read in place) and a large fixed one after a request header
      // (the record is copied to the buffer's end and raw doubles come from there).
      const small = new ProtoWriter(64);
      const t = new SensorDataTranscoder(wallOffsets);
      assert.equal(t.writeSensorData(record, small, 2), expected.length);
      assert.deepEqual(
        small.finish(),
        want,
        `kind ${kind} step ${step} round ${round} block ${block} (growable)`,
      );
      const large = new ProtoWriter(64 * 1024, { fixed: true });
      large.bytes(1, new Uint8Array(37));
      const headerEnd = large.pos;
      assert.equal(t.writeSensorData(record, large, 2), expected.length);
      assert.deepEqual(
        large.finish().subarray(headerEnd),
        want,
        `kind ${kind} step ${step} round ${round} (fixed)`,
      );
      // A fixed one just large enough: the record's copy at its end is used first, then written over.
      const tight = new ProtoWriter(headerEnd + Math.max(want.length, 3 * record.length) + 1, {
        fixed: true,
      });
      tight.bytes(1, new Uint8Array(37));
      assert.equal(t.writeSensorData(record, tight, 2), expected.length);
      assert.deepEqual(
        tight.finish().subarray(headerEnd),
        want,
        `kind ${kind} step ${step} round ${round} (tight)`,
      );
      readings += expected.length;
      writer.clear();
    }
  }
  assert.ok(readings > 5000, `${readings} readings compared`);
});
