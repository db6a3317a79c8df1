/*
 * Platform-free doubles for sync's core tests: records that carry a numeric
 * id, a target that transcodes them into SensorData.binary, and a scripted
 * in-process "cloud" sender that decodes each request and can fail it in any
 * of the ways the real local cloud can. The Node tests use the real cloud.
 */

import { TransportError } from "../../modules/ports";
import { ProtoReader } from "../../modules/proto/reader";
import { ProtoWriter, WIRE_LEN } from "../../modules/proto/writer";
import { Code, RpcError } from "../../modules/rpc/status";
import type { Ring } from "../../modules/storage/types";
import { SyncService, type SyncSettings } from "../../modules/sync/sync-service";
import type { SyncTarget, UploadSender } from "../../modules/sync/target";
import { FakeClock } from "./fake-clock";

/** A record of `size` bytes (≥ 4) whose first 4 bytes are `id` (big-endian). */
export function idRecord(id: number, size = 16): Uint8Array {
  const bytes = new Uint8Array(Math.max(4, size));
  bytes[0] = (id >>> 24) & 0xff;
  bytes[1] = (id >>> 16) & 0xff;
  bytes[2] = (id >>> 8) & 0xff;
  bytes[3] = id & 0xff;
  for (let i = 4; i < bytes.length; i++) bytes[i] = (id + i) & 0xff;
  return bytes;
}

export function recordId(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** Records whose first byte is this cannot be transcoded (stand-in for a corrupt record). */
export const UNDECODABLE_MARK = 0xee;
/** Records whose first byte is this wait (times not placeable) while `clockValid.value` is false. */
export const NEEDS_CLOCK_MARK = 0xdd;
export const clockValid = { value: true };

export function binaryTarget(ring: Ring, name = ring.key): SyncTarget {
  const meta = new ProtoWriter(64);
  meta.string(3, name);
  const metadata = meta.finish().slice();
  return {
    key: ring.key,
    ring,
    metadata: () => metadata,
    writeSensorContents(record, w) {
      if (record[0] === UNDECODABLE_MARK) throw new Error("bad record");
      if (record[0] === NEEDS_CLOCK_MARK && !clockValid.value) return -1;
      const mark = w.begin(2);
      w.bytes(3, record);
      w.end(mark);
      return 1;
    },
    countReadings: () => 1,
  };
}

export interface ReceivedRequest {
  component: string;
  ids: number[];
  bytes: number;
}

export type Fault =
  | "ok"
  | "ack-lost"
  | "unavailable"
  | "internal"
  | "invalid"
  | "too-large"
  | "http-413"
  | "refused"
  | "reset"
  | "timeout";

/** The parts of a DataCaptureUploadRequest the tests look at. */
export interface UploadParts {
  /** UploadMetadata.component_name (field 3). */
  component: string;
  /** UploadMetadata.tags (field 10). */
  tags: string[];
  /** Each SensorData (request field 2), still encoded. */
  sensorData: Uint8Array[];
}

/** Read a request with the device's bounded reader; the fields read must be length-delimited. */
export function readUploadRequest(body: Uint8Array): UploadParts {
  const r = new ProtoReader(body);
  const out: UploadParts = { component: "", tags: [], sensorData: [] };
  while (r.more()) {
    const field = r.tag();
    if (field === 1) {
      r.expect(WIRE_LEN);
      const outer = r.enter();
      while (r.more()) {
        const f = r.tag();
        if (f === 3 || f === 10) {
          r.expect(WIRE_LEN);
          const value = r.string();
          if (f === 3) out.component = value;
          else out.tags.push(value);
        } else r.skip();
      }
      r.leave(outer);
    } else if (field === 2) {
      r.expect(WIRE_LEN);
      out.sensorData.push(r.bytes());
    } else r.fail(`unexpected request field ${field}`);
  }
  return out;
}

/** SensorData.binary (field 3): where the binary test records travel. */
function sensorDataBinary(sensorData: Uint8Array): Uint8Array {
  const r = new ProtoReader(sensorData);
  let binary: Uint8Array | undefined;
  while (r.more()) {
    if (r.tag() === 3) {
      r.expect(WIRE_LEN);
      binary = r.bytes();
    } else r.skip();
  }
  if (!binary) throw new Error("SensorData without a binary payload");
  return binary;
}

export function decodeRequest(body: Uint8Array): ReceivedRequest {
  const { component, sensorData } = readUploadRequest(body);
  return { component, ids: sensorData.map((d) => recordId(sensorDataBinary(d))), bytes: body.length };
}

/**
 * Decodes and "stores" each request unless `fault` says otherwise. Resolves on
 * a later microtask, like a network would.
 */
export class ScriptedCloud implements UploadSender {
  readonly stored: ReceivedRequest[] = [];
  readonly attempts: ReceivedRequest[] = [];
  fault: (request: ReceivedRequest, attempt: number) => Fault = () => "ok";
  /** Called after a request is handled (e.g. to append to a ring mid-round). */
  onRequest: ((request: ReceivedRequest) => void) | undefined;

  async send(body: Uint8Array): Promise<void> {
    await Promise.resolve();
    const request = decodeRequest(body);
    this.attempts.push(request);
    const fault = this.fault(request, this.attempts.length);
    this.onRequest?.(request);
    switch (fault) {
      case "ok":
        this.stored.push(request);
        return;
      case "ack-lost":
        this.stored.push(request);
        throw new TransportError("reset", "connection reset after the request was stored");
      case "unavailable":
        throw new RpcError(Code.UNAVAILABLE, "try later");
      case "internal":
        throw new RpcError(Code.INTERNAL, "boom");
      case "invalid":
        throw new RpcError(Code.INVALID_ARGUMENT, "bad reading");
      case "too-large":
        throw new RpcError(Code.RESOURCE_EXHAUSTED, "request too large");
      case "http-413":
        throw new RpcError(Code.UNKNOWN, "HTTP 413", undefined, 413);
      case "refused":
        throw new TransportError("refused", "connect ECONNREFUSED");
      case "reset":
        throw new TransportError("reset", "socket hang up");
      case "timeout":
        throw new TransportError("timeout", "deadline");
    }
  }

  /** Ids stored per component, in arrival order. */
  idsOf(component: string): number[] {
    return this.stored.filter((r) => r.component === component).flatMap((r) => r.ids);
  }
}

/** Let pending promise reactions run (the fake cloud resolves on microtasks). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/** A sync service on fake time against a scripted cloud, no backoff jitter, its log lines kept. */
export function scriptedService(settings: Partial<SyncSettings>): {
  clock: FakeClock;
  cloud: ScriptedCloud;
  service: SyncService;
  logs: string[];
} {
  const clock = new FakeClock();
  const cloud = new ScriptedCloud();
  const logs: string[] = [];
  const log = {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
  };
  const service = new SyncService({
    sender: cloud,
    clock,
    timers: clock,
    log,
    settings,
    backoff: { jitter: 0 },
  });
  return { clock, cloud, service, logs };
}
