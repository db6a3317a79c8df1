/*
 * Runs inside the XS engine (driven by bench/xs/device-worker.ts): the device
 * cost of capsync per reading, per stage, in XS computrons and heap slots.
 * Everything here goes through the public APIs (Capture, the ring store,
 * DataManager, CloudClient), so it measures whatever block format and
 * encoders are current.
 *
 * The Node side calls one global per `evaluate` (one xsnap "crank"), so the
 * worker's meter for that crank — `compute` (computrons), `currentHeapCount`
 * (live slots + slots allocated since the last collection) — belongs to that
 * call alone. Inside a crank, `resetMeter` reads the running computron count,
 * which is how the store's share is separated from capture's.
 *
 * Ports are deliberately cheap so that only capsync's own work is metered:
 * a RAM flash whose read/program/erase are single native copies/fills (on an
 * ESP32 they are SPI transfers, not XS work), and a clock whose timers are a
 * handful of fields (on a device they are native Moddable timers).
 */
import { Capture } from "../../modules/capture/capture";
import { ModelRegistry } from "../../modules/capture/registry";
import { simulatedModels } from "../../modules/capture/simulated";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { DataManager } from "../../modules/manager/data-manager";
import type {
  Clock,
  FlashPort,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  TimerId,
  Timers,
} from "../../modules/ports";
import { silentLogger, TransportError } from "../../modules/ports";
import { CloudClient } from "../../modules/rpc/cloud-client";
import { crc32UpdateJs, setNativeCrc32 } from "../../modules/storage/crc32";
import { openRingStore } from "../../modules/storage/ring-store";
import type {
  ReadChunk,
  RecordBatch,
  Ring,
  RingCounters,
  RingLayoutEntry,
  RingStore,
} from "../../modules/storage/types";

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const resetMeter: (limit: number, index: number) => number;

const WALL = Date.UTC(2025, 0, 1);

function send(message: object): void {
  issueCommand(new TextEncoder().encode(JSON.stringify(message)).buffer as ArrayBuffer);
}

/** Computrons since the crank began (reads the meter and puts it back). */
function meterNow(): number {
  const m = resetMeter(0, 0);
  resetMeter(0, m);
  return m;
}

// ---- ports ------------------------------------------------------------------

/** A NOR partition in RAM: reads, programs and erases are one native operation each. */
export class RamFlash implements FlashPort {
  readonly bytes: Uint8Array;
  readonly sectorSize = 4096;
  bytesRead = 0;
  bytesWritten = 0;
  erases = 0;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.bytes.fill(0xff);
  }
  read(offset: number, target: Uint8Array): void {
    if (offset < 0 || offset + target.length > this.size) throw new RangeError("flash read out of range");
    target.set(this.bytes.subarray(offset, offset + target.length));
    this.bytesRead += target.length;
  }
  write(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError("flash write out of range");
    this.bytes.set(data, offset);
    this.bytesWritten += data.length;
  }
  eraseSector(index: number): void {
    this.bytes.fill(0xff, index * this.sectorSize, (index + 1) * this.sectorSize);
    this.erases++;
  }
  /** As the ESP32 driver maps its partition (Moddable's flash.map): the store's reads need no copy. */
  map(): Uint8Array {
    return this.bytes;
  }
}

interface Slot {
  callback: (() => void) | undefined;
  due: number;
  repeat: number;
}

/**
 * Monotonic + wall clock and a few timers; time moves only in `advance`. Allocates only in `set`.
 *
 * It stands in for the device's native Moddable timers, whose bookkeeping is C, not XS: the
 * emulation's own work should cost next to nothing so that only capsync's work is metered. Timers
 * still fire in time order (earliest first, each at its due time); while one repeating timer is the
 * only one armed (capture's sampler in the capture and store stages) it fires without a scan of the
 * slots, until a callback sets or clears a timer.
 */
export class StepClock implements Clock, Timers {
  now = 0;
  /** As the ESP32's timers (advance adds the interval to the due time): Timers.steady. */
  readonly steady = true;
  private readonly slots: Slot[] = [];
  /** Timers armed (callback set). */
  private armed = 0;
  /** Bumped by every set and clear: advance's fast loop rescans when a callback changed the timers. */
  private changes = 0;
  monotonic(): number {
    return this.now;
  }
  wall(): number {
    return WALL + this.now;
  }
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    let id = this.slots.findIndex((s) => s.callback === undefined);
    if (id < 0) {
      id = this.slots.length;
      this.slots.push({ callback: undefined, due: 0, repeat: 0 });
    }
    const s = this.slots[id]!;
    s.callback = callback;
    // A negative delay is "now" (as on the device): no timer is ever due before now.
    s.due = this.now + (delayMs > 0 ? delayMs : 0);
    s.repeat = repeatMs ?? 0;
    this.armed++;
    this.changes++;
    return id;
  }
  schedule(id: TimerId, delayMs: number, repeatMs?: number): void {
    const s = this.slots[id as number]!;
    s.due = this.now + (delayMs > 0 ? delayMs : 0);
    s.repeat = repeatMs ?? 0;
    this.changes++;
  }
  clear(id: TimerId): void {
    const s = this.slots[id as number];
    if (s && s.callback !== undefined) {
      s.callback = undefined;
      this.armed--;
    }
    this.changes++;
  }
  /** Fire every timer due up to now + ms, earliest first. */
  advance(ms: number): void {
    const end = this.now + ms;
    const slots = this.slots;
    for (;;) {
      let next = -1;
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!;
        if (s.callback !== undefined && s.due <= end && (next < 0 || s.due < slots[next]!.due)) next = i;
      }
      if (next < 0) break;
      const s = slots[next]!;
      const cb = s.callback!;
      if (this.armed === 1 && s.repeat > 0) {
        // The only timer armed, repeating: it is the earliest at every firing until a callback sets
        // or clears a timer (then the loop above looks again). Its due time is never before now.
        const changes = this.changes;
        const repeat = s.repeat;
        let due = s.due;
        do {
          this.now = due;
          due += repeat;
          s.due = due;
          cb();
        } while (due <= end && this.changes === changes);
        continue;
      }
      if (s.due > this.now) this.now = s.due;
      if (s.repeat > 0) s.due += s.repeat;
      else {
        s.callback = undefined;
        this.armed--;
      }
      cb();
    }
    this.now = end;
  }
}

/** A ring that takes batches and forgets them: capture's own cost, without the store. */
class NullRing implements Ring {
  syncPoint = 0;
  appended = 0;
  constructor(readonly key: string) {}
  append(batch: RecordBatch): void {
    this.appended += batch.count;
  }
  writableWithoutErase(): number {
    return 1 << 30;
  }
  readonly version = 0;
  eraseAhead(): number {
    return 0;
  }
  read(): ReadChunk | null {
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
      bytesUsed: 0,
      bytesPending: 0,
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

/** Wraps a real ring and meters every call capture makes on it (append, erase-ahead, room checks). */
class MeteredRing implements Ring {
  computrons = 0;
  constructor(private readonly inner: Ring) {}
  get key(): string {
    return this.inner.key;
  }
  get syncPoint(): number {
    return this.inner.syncPoint;
  }
  append(batch: RecordBatch): void {
    const t = meterNow();
    this.inner.append(batch);
    this.computrons += meterNow() - t - meterOverhead;
  }
  get version(): number {
    return this.inner.version;
  }
  writableWithoutErase(): number {
    const t = meterNow();
    const r = this.inner.writableWithoutErase();
    this.computrons += meterNow() - t - meterOverhead;
    return r;
  }
  eraseAhead(bytes: number): number {
    const t = meterNow();
    const r = this.inner.eraseAhead(bytes);
    this.computrons += meterNow() - t - meterOverhead;
    return r;
  }
  read(budget: number, after?: number): ReadChunk | null {
    return this.inner.read(budget, after);
  }
  commit(upto: number): void {
    this.inner.commit(upto);
  }
  counters(): RingCounters {
    return this.inner.counters();
  }
}

class MeteredStore implements RingStore {
  private readonly map = new Map<string, MeteredRing>();
  constructor(private readonly inner: RingStore) {}
  configure(layout: RingLayoutEntry[]): void {
    this.inner.configure(layout);
    for (const e of layout) {
      const ring = this.inner.ring(e.key);
      if (ring && !this.map.has(e.key)) this.map.set(e.key, new MeteredRing(ring));
    }
  }
  ring(key: string) {
    return this.map.get(key);
  }
  rings() {
    return [...this.map.values()];
  }
  close(): void {
    this.inner.close();
  }
  computrons(): number {
    let n = 0;
    for (const r of this.map.values()) n += r.computrons;
    return n;
  }
}

let meterOverhead = 0;
{
  // The cost of one meterNow() pair itself, taken off every metered call.
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = meterNow();
    const d = meterNow() - t;
    if (d < best) best = d;
  }
  meterOverhead = best;
}

// ---- scenarios --------------------------------------------------------------

export type Kind = "imu" | "env";
const RATE: Record<Kind, number> = { imu: 200, env: 1 };

function component(kind: Kind, extra: Record<string, unknown> = {}) {
  return kind === "imu"
    ? {
        name: "imu",
        api: "rdk:component:movement_sensor",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: [{ method: "AngularVelocity", capture_frequency_hz: RATE.imu, ...extra }],
            },
          },
        ],
      }
    : {
        name: "env",
        api: "rdk:component:sensor",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: [{ method: "Readings", capture_frequency_hz: RATE.env, ...extra }],
            },
          },
        ],
      };
}

function machine(kind: Kind, dm: Record<string, unknown> = {}) {
  return {
    services: [{ name: "dm", api: "rdk:service:data_manager", attributes: dm }],
    components: [component(kind)],
  };
}

/** Control for the allocation test: the simulated IMU, allocating one small object per reading. */
export let leakSink: unknown;
function leakyModels(): ModelRegistry {
  const base = simulatedModels();
  const imu = base.lookup("rdk:component:movement_sensor", "fake")!;
  return new ModelRegistry().include(base).register("fake", {
    ...imu,
    create(options) {
      const inner = imu.create(options);
      const angularVelocity = inner.angularVelocity!;
      inner.angularVelocity = (out) => {
        leakSink = { out };
        angularVelocity.call(inner, out);
      };
      return inner;
    },
  });
}

/** Capture alone (sample + encode + RAM batch; batches handed to a ring that forgets them). */
const captureOnly: Record<string, { clock: StepClock; capture: Capture }> = {};
function captureStage(kind: Kind, readings: number, leaky = false): void {
  const tag = `${kind}${leaky ? "-leaky" : ""}`;
  let s = captureOnly[tag];
  if (!s) {
    const clock = new StepClock();
    const capture = new Capture({
      store: new NullStore(),
      clock,
      timers: clock,
      log: silentLogger,
      registry: leaky ? leakyModels() : simulatedModels(),
    });
    capture.apply(parseMachineConfig(machine(kind)));
    clock.advance(10_000); // warm: first batches, first flushes
    s = captureOnly[tag] = { clock, capture };
  }
  s.clock.advance((readings * 1000) / RATE[kind]);
}

/** Capture into a real ring store on RAM flash; the store's share is metered separately. */
const captureStore: Partial<Record<Kind, { clock: StepClock; capture: Capture; store: MeteredStore }>> = {};
function storeStage(kind: Kind, readings: number): void {
  let s = captureStore[kind];
  if (!s) {
    const clock = new StepClock();
    const store = new MeteredStore(openRingStore({ flash: new RamFlash(1024 * 1024) }));
    const capture = new Capture({
      store,
      clock,
      timers: clock,
      log: silentLogger,
      registry: simulatedModels(),
    });
    capture.apply(parseMachineConfig(machine(kind)));
    clock.advance(10_000);
    s = captureStore[kind] = { clock, capture, store };
  }
  const before = s.store.computrons();
  const captured = s.capture.stats()[0]!.captured;
  s.clock.advance((readings * 1000) / RATE[kind]);
  send({
    kind: "store",
    computrons: s.store.computrons() - before,
    readings: s.capture.stats()[0]!.captured - captured,
  });
}

// ---- the cloud, minus the network ---------------------------------------------

/** `message` in a gRPC-web body followed by an OK trailer. */
function okResponse(message: number[]): Uint8Array {
  const trailer = new TextEncoder().encode("grpc-status: 0\r\n");
  const out = new Uint8Array(5 + message.length + 5 + trailer.length);
  out[4] = message.length;
  out.set(message, 5);
  let p = 5 + message.length;
  out[p] = 0x80;
  out[p + 4] = trailer.length;
  p += 5;
  out.set(trailer, p);
  return out;
}

/** A DataCaptureUploadResponse {file_id: "f"}. */
const okUploadResponse = () => okResponse([0x0a, 0x01, 0x66]);
/** Authenticate's answer: AuthenticateResponse {access_token: "t"}. */
const okAuthResponse = () => okResponse([0x0a, 0x01, 0x74]);

const HEADERS = { "content-type": "application/grpc-web+proto" };

/**
 * The HTTP port of the device with the cloud answering OK at once (or, when
 * `hold` is set, when the Node side releases it: the request is then still in
 * flight between cranks, which is when the heap is sampled).
 */
class LoopbackCloud implements HttpTransport {
  requests = 0;
  requestBytes = 0;
  hold = false;
  down = false;
  /** Buffers the sync path holds while the last request was in flight (bytes). */
  inFlightBufferBytes = 0;
  peakInFlightBufferBytes = 0;
  private readonly upload = okUploadResponse();
  private readonly auth = okAuthResponse();
  private waiting: (() => void)[] = [];
  /** Called when a request arrives, to add what else the sync path holds at that moment. */
  onRequest: ((body: Uint8Array) => number) | undefined;
  request(req: HttpRequest): Promise<HttpResponse> {
    if (this.down) return Promise.reject(new TransportError("refused", "the cloud is unreachable"));
    const upload = req.path.endsWith("DataCaptureUpload");
    if (upload) {
      this.requests++;
      this.requestBytes += req.body.length;
      const held = this.onRequest ? this.onRequest(req.body) : req.body.buffer.byteLength;
      this.inFlightBufferBytes = held;
      if (held > this.peakInFlightBufferBytes) this.peakInFlightBufferBytes = held;
    }
    const response: HttpResponse = { status: 200, headers: HEADERS, body: upload ? this.upload : this.auth };
    if (!this.hold) return Promise.resolve(response);
    return new Promise((resolve) => this.waiting.push(() => resolve(response)));
  }
  close(): void {}
  get pending(): number {
    return this.waiting.length;
  }
  release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

function cloudClient(transport: HttpTransport): CloudClient {
  return new CloudClient({ transport, partId: "bench-part", secret: "bench-secret" });
}

/** Sync alone: a ring holding `readings` readings, then one syncNow (read + transcode + encode + send). */
const syncSetups: Record<string, { manager: DataManager; cloud: LoopbackCloud; readings: number }> = {};
function syncPrepare(kind: Kind, readings: number, tag: string): void {
  const clock = new StepClock();
  const cloud = new LoopbackCloud();
  const manager = new DataManager({
    flash: new RamFlash(1024 * 1024),
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "bench-part",
    sender: cloudClient(cloud),
    // At the largest budget (32 KB), as the 0.1 baseline was measured (its default): per-request costs
    // are then spread over the same readings per request, and the per-reading figures compare.
    settings: parseMachineConfig(machine(kind, { sync_disabled: true, upload_budget_kb: 32 })),
  });
  clock.advance((readings * 1000) / RATE[kind]);
  manager.capture.flush();
  const inFlash = manager.status().collectors.reduce((n, c) => n + c.inFlash, 0);
  syncSetups[tag] = { manager, cloud, readings: inFlash };
}

async function syncRun(tag: string): Promise<void> {
  const s = syncSetups[tag]!;
  const result = await s.manager.syncNow();
  if (!result.ok) throw new Error(`sync failed: ${JSON.stringify(result.error)}`);
}

function syncReport(tag: string): void {
  const s = syncSetups[tag]!;
  const synced = s.manager.status().collectors.reduce((n, c) => n + c.synced, 0);
  send({
    kind: "sync",
    readings: s.readings,
    synced,
    requests: s.cloud.requests,
    bytes: s.cloud.requestBytes,
  });
}

// ---- boot on a full partition ---------------------------------------------------

const EXAMPLE_COMPONENTS = [
  component("imu"),
  component("env"),
  {
    name: "board",
    api: "rdk:component:board",
    model: "fake",
    attributes: { analogs: ["a0"] },
    service_configs: [
      {
        type: "data_manager",
        attributes: {
          capture_methods: [
            { method: "Analogs", capture_frequency_hz: 10, additional_params: { reader_name: "a0" } },
          ],
        },
      },
    ],
  },
];

function exampleConfig(dm: Record<string, unknown>) {
  return {
    services: [
      {
        name: "data_manager",
        api: "rdk:service:data_manager",
        attributes: { sync_interval_mins: 0.1, tags: ["capsync-demo"], flush_interval_secs: 5, ...dm },
      },
    ],
    components: EXAMPLE_COMPONENTS,
  };
}

let bootFlash: RamFlash | undefined;
/** Capture the example config with sync off until every ring is nearly full (1 MiB partition). */
function bootFill(): void {
  const clock = new StepClock();
  const flash = new RamFlash(1024 * 1024);
  const manager = new DataManager({
    flash,
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "bench-part",
    sender: cloudClient(new LoopbackCloud()),
    settings: parseMachineConfig(exampleConfig({ sync_disabled: true })),
  });
  for (let step = 0; step < 24 * 360; step++) {
    clock.advance(10_000);
    let full = true;
    for (const ring of manager.store.rings()) {
      const c = ring.counters();
      if (c.bytesPending < 0.97 * c.capacityBytes) full = false;
    }
    if (full) break;
  }
  void manager.close();
  let pending = 0;
  let capacity = 0;
  for (const c of manager.status().collectors) pending += c.inFlash;
  for (const ring of manager.store.rings()) capacity += ring.counters().capacityBytes;
  bootFlash = flash;
  send({ kind: "fill", pendingReadings: pending, capacityBytes: capacity, written: flash.bytesWritten });
}

let booted: DataManager | undefined;
/** Everything the data manager does before capture starts, on the full partition. */
function bootOpen(): void {
  const flash = bootFlash!;
  flash.bytesRead = 0;
  const clock = new StepClock();
  booted = new DataManager({
    flash,
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "bench-part",
    sender: cloudClient(new LoopbackCloud()),
    settings: parseMachineConfig(exampleConfig({})),
  });
}

function bootReport(): void {
  const lost = booted!.status().collectors.reduce((n, c) => n + c.lostAtBoot, 0);
  send({ kind: "boot", bytesRead: bootFlash!.bytesRead, lostAtBoot: lost });
}

// ---- an hour of the example config ---------------------------------------------

let hour: { clock: StepClock; manager: DataManager; cloud: LoopbackCloud; sync: unknown } | undefined;
let lastCapacity = 0;

/** Bytes of the sync path's buffers at the moment a request is handed to the transport. */
function syncBuffers(sync: unknown, body: Uint8Array): number {
  // The request writer's buffer (private to the sync service: read for measurement only).
  const writer = (sync as { writer?: { buf?: Uint8Array; capacity?: number } }).writer;
  const capacity = writer?.buf?.byteLength ?? writer?.capacity ?? 0;
  let held = capacity;
  // A writer that had to grow to get here still holds its previous buffer until the next collection.
  if (capacity > lastCapacity && lastCapacity > 0) held += lastCapacity;
  lastCapacity = capacity;
  // A request copied into a second buffer on its way out.
  if (body.buffer.byteLength !== capacity) held += body.buffer.byteLength;
  // Record copies made by the store's read for this request.
  held += lastReadCopies;
  return held;
}

let lastReadCopies = 0;
/** Counts the bytes of record copies a ring read hands out (views into a shared buffer copy nothing). */
function watchReads(manager: DataManager): void {
  for (const ring of manager.store.rings()) {
    const r = ring as unknown as { read: Ring["read"] };
    const inner = r.read.bind(ring);
    r.read = (budget: number, after?: number) => {
      const chunk = inner(budget, after);
      let copies = 0;
      if (chunk) {
        const seen = new Set<ArrayBufferLike>();
        for (const rec of chunk.records) {
          if (seen.has(rec.buffer)) continue;
          seen.add(rec.buffer);
          if (rec.buffer.byteLength === rec.length) copies += rec.length;
        }
      }
      lastReadCopies = copies;
      return chunk;
    };
  }
}

function hourStart(dm: Record<string, unknown> = {}): void {
  const clock = new StepClock();
  const cloud = new LoopbackCloud();
  cloud.hold = true;
  const manager = new DataManager({
    flash: new RamFlash(1024 * 1024),
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "bench-part",
    sender: cloudClient(cloud),
    settings: parseMachineConfig(exampleConfig(dm)),
  });
  watchReads(manager);
  const sync = manager.sync;
  cloud.onRequest = (body) => syncBuffers(sync, body);
  hour = { clock, manager, cloud, sync };
}

/** One simulated second; the cloud is down from `outageFrom` to `outageTo` (seconds). */
function hourStep(second: number, outageFrom: number, outageTo: number): number {
  const h = hour!;
  h.cloud.down = second >= outageFrom && second < outageTo;
  h.clock.advance(1000);
  return h.cloud.pending;
}

function hourRelease(): void {
  hour!.cloud.release();
}

function sendPending(): void {
  send({ kind: "pending", count: hour!.cloud.pending });
}

function hourReport(): void {
  const h = hour!;
  const st = h.manager.status();
  let captured = 0;
  let synced = 0;
  let pending = 0;
  for (const c of st.collectors) {
    captured += c.captured;
    synced += c.synced;
    pending += c.pending;
  }
  send({
    kind: "hour",
    captured,
    synced,
    pending,
    requests: h.cloud.requests,
    peakSyncBufferBytes: h.cloud.peakInFlightBufferBytes,
  });
}

// ---- the device's native CRC-32 -------------------------------------------------

/**
 * The ESP32 build routes CRC-32 to the ROM's crc32_le (modules/platform/moddable/crc32). Here the same
 * JavaScript hook is taken and what the device runs is charged: the XS bytecodes of the call (metered
 * as they run, up to the meter read below) plus the ROM loop's time, a byte-wise table in internal ROM
 * at about ROM_CRC_CYCLES_PER_BYTE CPU cycles a byte, converted at the bench's ESP32 rate (0.5 M
 * computrons/s at 240 MHz: 480 cycles a computron). The JavaScript CRC still computes the value (every
 * CRC check in the bench stays real); its own bytecodes are taken off the meter.
 */
export const ROM_CRC_CYCLES_PER_BYTE = 10;
const CYCLES_PER_COMPUTRON = 240e6 / 500_000;
function romCrc32(crc: number, bytes: Uint8Array, start: number, end: number): number {
  const at = resetMeter(0, 0);
  const value = crc32UpdateJs(crc, bytes, start, end);
  resetMeter(0, at + Math.ceil(((end - start) * ROM_CRC_CYCLES_PER_BYTE) / CYCLES_PER_COMPUTRON));
  return value;
}

/** true: CRC-32 as on the device (ROM); false: the JavaScript path (every other lane). */
function nativeCrc(on: boolean): void {
  setNativeCrc32(on ? romCrc32 : undefined);
}

const g = globalThis as Record<string, unknown>;
g.__dev = {
  captureStage,
  storeStage,
  syncPrepare,
  syncRun,
  syncReport,
  bootFill,
  bootOpen,
  bootReport,
  hourStart,
  hourStep,
  hourRelease,
  sendPending,
  hourReport,
  meterOverhead: () => meterOverhead,
  nativeCrc,
};
