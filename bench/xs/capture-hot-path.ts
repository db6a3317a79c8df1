/*
 * Runs inside the XS engine (bundled by bench/xs/capture-worker.ts). Puts the
 * capture measurements on globalThis for the Node side to call, one
 * `evaluate` each, so the worker's meter (heap slot count) can be read
 * between calls:
 *   __captureRun(kind, n)         n readings through the whole hot path
 *   __protobufEsRun(kind, n)      n readings the obvious way (protobuf-es objects + toBinary)
 *   __transcodeRun(kind, n)       n readings from stored blocks to SensorData bytes (sync side)
 *   __objectsRun(n)               control: one small object per reading
 *   __captureBench()              every figure of bench/capture.bench.ts, sent with issueCommand
 */
import { create, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Capture } from "../../modules/capture/capture";
import { simulatedModels } from "../../modules/capture/simulated";
import { parseMachineConfig } from "../../modules/config/machine-config";
import type { Clock, TimerId, Timers } from "../../modules/ports";
import { silentLogger } from "../../modules/ports";
import { ProtoWriter } from "../../modules/proto/writer";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import type {
  RecordBatch,
  Ring,
  RingCounters,
  RingLayoutEntry,
  RingStore,
} from "../../modules/storage/types";
import { SensorDataSchema } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const performance: { now(): number };

const WALL = Date.UTC(2025, 0, 1);

/** One timer, stepped by hand, allocation-free (the fake clock of the tests allocates per step). */
class StepClock implements Clock, Timers {
  now = 0;
  private callback: (() => void) | undefined;
  private due = Number.POSITIVE_INFINITY;
  private repeat = 0;
  realTime = false;
  private readonly origin = performance.now();
  monotonic(): number {
    return this.realTime ? performance.now() - this.origin : this.now;
  }
  wall(): number {
    return WALL + this.monotonic();
  }
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    this.callback = callback;
    this.schedule(1, delayMs, repeatMs);
    return 1;
  }
  schedule(_id: TimerId, delayMs: number, repeatMs?: number): void {
    this.due = this.monotonic() + delayMs;
    this.repeat = repeatMs ?? 0;
  }
  clear(): void {
    this.callback = undefined;
    this.due = Number.POSITIVE_INFINITY;
  }
  /** Simulated time: fire every due tick up to now + ms. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.due <= end) {
      this.now = this.due;
      this.due += this.repeat;
      this.callback!();
    }
    this.now = end;
  }
  /** Real time: spin until `durationMs` passed, firing the timer when due (late if the CPU is busy). */
  spin(durationMs: number): void {
    const end = performance.now() - this.origin + durationMs;
    for (;;) {
      const t = performance.now() - this.origin;
      if (t >= end) return;
      if (t >= this.due) {
        this.due += this.repeat;
        if (this.due < t) this.due = t;
        this.callback!();
      }
    }
  }
}

/** A ring that takes batches and forgets them: measures capture, not flash. */
class NullRing implements Ring {
  syncPoint = 0;
  appended = 0;
  bytes = 0;
  constructor(readonly key: string) {}
  append(batch: RecordBatch): void {
    this.appended += batch.count;
    this.bytes += batch.ends[batch.count - 1]!;
  }
  writableWithoutErase(): number {
    return 1 << 30;
  }
  readonly version = 0;
  eraseAhead(): number {
    return 0;
  }
  read() {
    return null;
  }
  commit(): void {}
  counters(): RingCounters {
    return {
      appended: this.appended,
      committed: 0,
      dropped: 0,
      discarded: 0,
      pending: 0,
      corrupt: 0,
      bytesUsed: this.bytes,
      bytesPending: this.bytes,
      capacityBytes: 0,
    };
  }
}

class NullStore implements RingStore {
  private readonly map = new Map<string, NullRing>();
  configure(layout: RingLayoutEntry[]): void {
    for (const e of layout) if (!this.map.has(e.key)) this.map.set(e.key, new NullRing(e.key));
  }
  ring(key: string) {
    return this.map.get(key);
  }
  rings() {
    return [...this.map.values()];
  }
  close(): void {}
}

type Kind = "vector" | "readings";

function config(kind: Kind, hz: number, collectors = 1): unknown {
  const components = [];
  for (let i = 0; i < collectors; i++) {
    components.push(
      kind === "vector"
        ? {
            name: `imu${i}`,
            api: "rdk:component:movement_sensor",
            model: "fake",
            service_configs: [
              {
                type: "data_manager",
                attributes: { capture_methods: [{ method: "AngularVelocity", capture_frequency_hz: hz }] },
              },
            ],
          }
        : {
            name: `env${i}`,
            api: "rdk:component:sensor",
            model: "fake",
            service_configs: [
              {
                type: "data_manager",
                attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: hz }] },
              },
            ],
          },
    );
  }
  return { services: [], components };
}

function makeCapture(kind: Kind, hz: number, store: RingStore = new NullStore(), collectors = 1) {
  const clock = new StepClock();
  const capture = new Capture({
    store,
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
  });
  capture.apply(parseMachineConfig(config(kind, hz, collectors)));
  return { capture, clock };
}

const prepared: Partial<Record<Kind, ReturnType<typeof makeCapture>>> = {};

/** n readings at 1 kHz of simulated time through sample → encode → RAM batch (→ flush to a null ring). */
function captureRun(kind: Kind, n: number): number {
  prepared[kind] ??= makeCapture(kind, 1000);
  const { capture, clock } = prepared[kind]!;
  const t0 = performance.now();
  clock.advance(n);
  const ms = performance.now() - t0;
  void capture;
  return (ms * 1e6) / n;
}

// The obvious implementation: read the sensor into an object, build SensorData, serialize.
const fakeImu = simulatedModels()
  .lookup("rdk:component:movement_sensor", "fake")!
  .create({ name: "imu", attributes: {}, clock: new StepClock(), log: silentLogger });
const fakeEnv = simulatedModels()
  .lookup("rdk:component:sensor", "fake")!
  .create({ name: "env", attributes: {}, clock: new StepClock(), log: silentLogger });

function timestamp(ms: number) {
  const seconds = Math.floor(ms / 1000);
  return create(TimestampSchema, {
    seconds: BigInt(seconds),
    nanos: Math.round((ms - seconds * 1000) * 1e6),
  });
}

/** One SensorData the way an app would build it with protobuf-es, from the same simulated sensor. */
function protobufEsReading(kind: Kind, ms: number): Uint8Array {
  const requested = timestamp(WALL + ms);
  let payload: JsonObject;
  if (kind === "vector") {
    const v = new Float64Array(3);
    fakeImu.angularVelocity!(v);
    payload = { angular_velocity: { x: v[0]!, y: v[1]!, z: v[2]! } };
  } else {
    const readings: JsonObject = {};
    fakeEnv.readings!({
      number: (k, x) => {
        readings[k] = x;
      },
      bool: (k, x) => {
        readings[k] = x;
      },
      string: (k, x) => {
        readings[k] = x;
      },
      null: (k) => {
        readings[k] = null;
      },
      beginObject: () => {},
      endObject: () => {},
      value: () => {},
    });
    payload = { readings };
  }
  const message = create(SensorDataSchema, {
    metadata: { timeRequested: requested, timeReceived: timestamp(WALL + ms + 0.05) },
    data: { case: "struct", value: payload },
  });
  return toBinary(SensorDataSchema, message);
}

function protobufEsRun(kind: Kind, n: number): number {
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += protobufEsReading(kind, i).length;
  const ms = performance.now() - t0;
  if (bytes === 0) throw new Error("nothing encoded");
  return (ms * 1e6) / n;
}

/** Blocks captured once, to transcode again and again (the sync side of the device). */
const transcodeSets: Partial<Record<Kind, { capture: Capture; records: Uint8Array[]; writer: ProtoWriter }>> =
  {};

/** n readings transcoded from stored blocks to SensorData bytes (what sync does per upload). */
function transcodeRun(kind: Kind, n: number): number {
  if (!transcodeSets[kind]) {
    const store = openRingStore({ flash: new NorImage({ size: 16 * 4096 }) });
    const { capture, clock } = makeCapture(kind, 100, store);
    clock.advance(10_000);
    capture.flush();
    const records = store.rings()[0]!.read(1 << 24)!.records;
    transcodeSets[kind] = { capture, records, writer: new ProtoWriter(1 << 16) };
  }
  const { capture, records, writer } = transcodeSets[kind]!;
  const t0 = performance.now();
  let done = 0;
  while (done < n) {
    for (let i = 0; i < records.length && done < n; i++) {
      writer.reset();
      done += capture.writeSensorData(records[i]!, writer, 2);
    }
  }
  return ((performance.now() - t0) * 1e6) / done;
}

let sink: unknown[] = [];
function objectsRun(n: number): void {
  sink = [];
  for (let i = 0; i < n; i++) sink.push({ i });
}

/** Flash bytes (real ring store on emulated NOR) and SensorData bytes per reading. */
function sizes(kind: Kind): { flash: number; sensorData: number; readings: number } {
  const store = openRingStore({ flash: new NorImage({ size: 64 * 4096 }) });
  const { capture, clock } = makeCapture(kind, 100, store);
  clock.advance(20_000);
  capture.flush();
  const ring = store.rings()[0]!;
  const flash = ring.counters().bytesUsed;
  const w = new ProtoWriter(1 << 16);
  let readings = 0;
  let sensorData = 0;
  const chunk = ring.read(1 << 24);
  for (const record of chunk?.records ?? []) {
    w.reset();
    readings += capture.writeSensorData(record, w, 2);
    // Each SensorData is framed with a 1-byte tag and its length; count the messages themselves.
    const out = w.finish();
    let pos = 0;
    while (pos < out.length) {
      pos++;
      let length = 0;
      let scale = 1;
      for (;;) {
        const b = out[pos++]!;
        length += (b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 128;
      }
      sensorData += length;
      pos += length;
    }
  }
  return { flash: flash / readings, sensorData: sensorData / readings, readings };
}

function send(message: object): void {
  issueCommand(new TextEncoder().encode(JSON.stringify(message)).buffer as ArrayBuffer);
}

function captureBench(): void {
  // Warm both paths first so neither pays for first-use compilation of the other.
  captureRun("vector", 2000);
  protobufEsRun("vector", 2000);
  captureRun("readings", 2000);
  protobufEsRun("readings", 2000);
  const n = 50_000;
  const xsVector = captureRun("vector", n);
  const pbVector = protobufEsRun("vector", n);
  const xsReadings = captureRun("readings", n);
  const pbReadings = protobufEsRun("readings", n);
  const vectorSizes = sizes("vector");
  const readingsSizes = sizes("readings");
  send({
    kind: "bench",
    xsNsPerReading: xsVector,
    protobufEsXsNsPerReading: pbVector,
    xsNsPerReadingReadings: xsReadings,
    protobufEsXsNsPerReadingReadings: pbReadings,
    vectorSizes,
    readingsSizes,
  });
}

const g = globalThis as Record<string, unknown>;
g.__captureRun = captureRun;
g.__protobufEsRun = protobufEsRun;
g.__objectsRun = objectsRun;
g.__transcodeRun = transcodeRun;
g.__captureBench = captureBench;
g.__send = send;
