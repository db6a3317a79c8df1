/*
 * Random reading streams for the capture codec's property tests, and the
 * round trip they must survive: block writer → the real ring store on the
 * NOR emulation → read back → transcoder, compared byte for byte with
 * protobuf-es's encoding of the original readings. Platform-free: runs in the
 * Node lane and inside XS.
 *
 * A stream is described by a few parameters (fast-check generates and shrinks
 * those) and expanded with a seeded PRNG: per column a value model (decimal
 * steps, integer divisors like 131, multipliers like 9.80665/16384, special
 * doubles, random bit patterns), drifting codes with sudden jumps, values of
 * another model mixed in, steady or jittery times that may step backwards.
 */
import "./timers-absent";
import { create, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
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
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { SensorDataSchema } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";
import { Random } from "../harness/random";

export const STREAM_KINDS = [
  KIND_READINGS,
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

export interface StreamParams {
  seed: number;
  kind: number;
  readings: number;
  batchBytes: number;
  /** 0 none, 1 the true step of column 0, 2 a wrong one. */
  declare: number;
  wall: boolean;
  /** Chance (per 1000) that a value comes from another model than its column's. */
  mixPerMille: number;
  /** Chance (per 1000) of a sudden jump of the code. */
  jumpPerMille: number;
  /** Chance (per 1000) of a jittered, late or backwards time step. */
  jitterPerMille: number;
}

/** Every special double the format must keep bit for bit. */
export const SPECIAL_DOUBLES: readonly number[] = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  5e-324,
  -5e-324,
  2.225073858507201e-308, // largest subnormal
  2.2250738585072014e-308, // smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53 + 2),
  2 ** 60,
  2 ** 50,
  -(2 ** 50),
  2 ** 50 - 1,
  1e300,
  0.1,
  1 / 3,
  -1e-310,
  Number.EPSILON,
];

const MODEL_DECIMAL = 0;
const MODEL_DIVISOR = 1;
const MODEL_MULTIPLIER = 2;
const MODEL_SPECIAL = 3;
/** Any model above MODEL_SPECIAL: a random 64-bit pattern (NaNs with payloads, subnormals, anything). */
const DIVISORS = [131, 16384, 3, 7, 4096, 65.5, 1000, 1 / 3];
const MULTIPLIERS = [9.80665 / 16384, 0.1, 3.3 / 4095, 1e-7, 0.25, 1.5];

class ColumnModel {
  readonly model: number;
  readonly k: number;
  readonly factor: number;
  code: number;
  readonly drift: number;
  constructor(private readonly rng: Random) {
    this.model = rng.int(10) < 8 ? rng.int(3) : 3 + rng.int(2);
    this.k = rng.int(10);
    this.factor = this.model === MODEL_DIVISOR ? rng.pick(DIVISORS) : rng.pick(MULTIPLIERS);
    this.code = rng.int(2) === 0 ? rng.int(4096) : (rng.float() - 0.5) * 2 ** (1 + rng.int(48));
    this.code = Math.round(this.code);
    this.drift = 2 ** rng.int(16);
  }
  value(model: number, jump: boolean): number {
    const rng = this.rng;
    if (model <= MODEL_MULTIPLIER) {
      this.code += jump
        ? Math.round((rng.float() - 0.5) * 2 ** (1 + rng.int(52)))
        : Math.round((rng.float() - 0.5) * this.drift);
      if (this.code > 2 ** 53 || this.code < -(2 ** 53)) this.code = 0;
    }
    switch (model) {
      case MODEL_DECIMAL:
        return this.code / 10 ** this.k;
      case MODEL_DIVISOR:
        return this.code / this.factor;
      case MODEL_MULTIPLIER:
        return this.code * this.factor;
      case MODEL_SPECIAL:
        return rng.pick(SPECIAL_DOUBLES);
      default: {
        const view = new DataView(new ArrayBuffer(8));
        view.setUint32(0, rng.u32());
        view.setUint32(4, rng.u32());
        return view.getFloat64(0);
      }
    }
  }
}

interface Expected {
  req: number;
  recv: number;
  payload: JsonObject;
}

function timestamp(us: number) {
  const seconds = Math.floor(us / 1e6);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (us - seconds * 1e6) * 1000 });
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
    case KIND_GPIO:
      return { high: v[0] !== 0 };
    case KIND_TICKS:
      return { ticks: v[0]! };
    case KIND_MOTOR_POSITION:
      return { position: v[0]! };
    case KIND_SERVO_POSITION:
      return { position_deg: v[0]! };
    default:
      return { value: v[0]! };
  }
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return s;
}

export interface RoundTrip {
  /** Hex of the transcoded SensorData (field 2 entries) and of protobuf-es's encoding of the originals. */
  actual: string;
  expected: string;
  readings: number;
  blocks: number;
  flashBytes: number;
}

const OFFSET_US = 1_700_000_000_000_000;

/** Capture the stream into blocks, through the ring store, back to SensorData. */
export function roundTrip(p: StreamParams): RoundTrip {
  const rng = new Random(p.seed);
  const kind = p.kind;
  const arity = kind === KIND_READINGS ? 1 + rng.int(6) : kindArity(kind);
  const columns: ColumnModel[] = [];
  for (let c = 0; c < arity; c++) columns.push(new ColumnModel(rng));
  const writer = new BlockWriter(kind, p.batchBytes);
  if (p.declare === 1 && columns[0]!.model === MODEL_DIVISOR) writer.declareStep(columns[0]!.factor, 0);
  else if (p.declare === 1 && columns[0]!.model === MODEL_MULTIPLIER)
    writer.declareStep(0, columns[0]!.factor);
  else if (p.declare === 2) writer.declareStep(rng.pick(DIVISORS), 0);
  const flash = openRingStore({ flash: new NorImage({ size: 128 * 4096 }) });
  flash.configure([{ key: "k", sectors: 120 }]);
  const ring = flash.ring("k")!;
  const batch = { bytes: writer.bytes, ends: writer.ends, count: 1 };
  let blocks = 0;
  const flush = () => {
    writer.seal();
    ring.append(batch);
    writer.clear();
    blocks++;
  };
  const expected: Expected[] = [];
  const values = new Float64Array(8);
  let req = p.wall ? 1.7e15 + rng.int(2 ** 30) * 1000 : 1_000_000 + rng.int(1000);
  const step = rng.pick([1000, 5000, 10_000, 1_000_000, 1234, 1]);
  const extras = rng.int(2) === 0;
  for (let i = 0; i < p.readings; i++) {
    const jump = rng.int(1000) < p.jumpPerMille;
    for (let c = 0; c < arity; c++) {
      const col = columns[c]!;
      const model = rng.int(1000) < p.mixPerMille ? rng.int(5) : col.model;
      let v = col.value(model, jump);
      if (kind === KIND_GPIO) v = rng.int(2);
      // Capture refuses NaN and ±Infinity in a Readings map (a sensor error, FORMAT.md); fixed kinds keep them here.
      if (kind === KIND_READINGS && v - v !== 0) v = -0;
      values[c] = v;
    }
    const latency = rng.int(10) < 7 ? 0 : rng.int(100) === 0 ? rng.int(2 ** 30) * 1024 : rng.int(2 ** 14);
    const recv = req + latency;
    let payload: JsonObject;
    if (kind === KIND_READINGS) {
      writer.beginReading();
      const readings: JsonObject = {};
      for (let c = 0; c < arity; c++) {
        const name = c === 0 ? "temperature" : c === 1 ? "humidity" : `field_${c}`;
        writer.number(name, values[c]!);
        readings[name] = values[c]!;
        if (extras && c === 0) {
          const on = rng.int(2) === 0;
          writer.bool("on", on);
          readings.on = on;
          const text = rng.pick(["", "ok", "é€𝄞", "a longer label of text"]);
          writer.string("label", text);
          readings.label = text;
        }
      }
      // Now and then a reading with one more field: a new schema, a new block.
      if (rng.int(50) === 0) {
        writer.null("rare");
        readings.rare = null;
      }
      const problem = writer.endReading();
      if (problem !== READING_OK) throw new Error(`reading refused: ${problem} ${writer.problemField}`);
      if (!writer.fitsReading(p.wall)) flush();
      if (!writer.commitReading(p.wall, 3, req, recv, i))
        throw new Error("reading does not fit an empty batch");
      payload = { readings };
    } else {
      if (!writer.fitsFixed(p.wall, arity)) flush();
      if (!writer.appendFixed(p.wall, 3, req, recv, i, values, arity)) {
        throw new Error("reading does not fit an empty batch");
      }
      payload = fixedPayload(kind, values);
    }
    const offset = p.wall ? 0 : OFFSET_US;
    expected.push({ req: req + offset, recv: recv + offset, payload });
    const jitter = rng.int(1000) < p.jitterPerMille;
    req += jitter ? (p.wall && rng.int(4) === 0 ? -rng.int(1_000_000) : rng.int(3 * step) + 1) : step;
    if (req < 1) req = 1;
  }
  if (writer.count > 0) flush();

  const transcoder = new SensorDataTranscoder({ offsetUs: () => OFFSET_US });
  const out = new ProtoWriter(1024);
  let readings = 0;
  let after: number | undefined;
  for (;;) {
    const chunk = ring.read(1 << 20, after);
    if (!chunk) break;
    for (const record of chunk.records) readings += transcoder.writeSensorData(record, out, 2);
    after = chunk.lastSeq;
  }
  const reference = new ProtoWriter(1024);
  for (const r of expected) {
    const message = create(SensorDataSchema, {
      metadata: { timeRequested: timestamp(r.req), timeReceived: timestamp(r.recv) },
      data: { case: "struct", value: r.payload },
    });
    reference.bytes(2, toBinary(SensorDataSchema, message));
  }
  return {
    actual: hex(out.finish()),
    expected: hex(reference.finish()),
    readings,
    blocks,
    flashBytes: ring.counters().bytesUsed,
  };
}

/** Stream parameters for fast-check (it shrinks a failing stream to its smallest parameters). */
export const streamParams: fc.Arbitrary<StreamParams> = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  kind: fc.constantFrom(...STREAM_KINDS),
  readings: fc.integer({ min: 1, max: 400 }),
  batchBytes: fc.integer({ min: 320, max: 4000 }),
  declare: fc.integer({ min: 0, max: 2 }),
  wall: fc.boolean(),
  mixPerMille: fc.constantFrom(0, 0, 5, 100, 500),
  jumpPerMille: fc.constantFrom(0, 10, 200),
  jitterPerMille: fc.constantFrom(0, 0, 20, 500),
});
