/*
 * Platform-free doubles for sync's core tests: records that carry a numeric
 * id, a target that transcodes them into SensorData.binary, and a scripted
 * in-process "cloud" sender that decodes each request and can fail it in any
 * of the ways the real local cloud can. The Node tests use the real cloud.
 */

import { TransportError } from "../../modules/ports";
import { ProtoWriter } from "../../modules/proto/writer";
import { Code, RpcError } from "../../modules/rpc/status";
import type { Ring } from "../../modules/storage/types";
import type { SyncTarget, UploadSender } from "../../modules/sync/target";

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
  | "refused"
  | "reset"
  | "timeout";

function readVarint(buf: Uint8Array, at: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = buf[at.pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
}

/** Split a message into [field, bytes] for length-delimited fields (all this test format uses). */
function fields(buf: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = readVarint(buf, at);
    if ((key & 7) !== 2) throw new Error(`unexpected wire type ${key & 7}`);
    const n = readVarint(buf, at);
    out.push([Math.floor(key / 8), buf.subarray(at.pos, at.pos + n)]);
    at.pos += n;
  }
  return out;
}

export function decodeRequest(body: Uint8Array): ReceivedRequest {
  let component = "";
  const ids: number[] = [];
  for (const [field, bytes] of fields(body)) {
    if (field === 1) {
      for (const [f, v] of fields(bytes)) if (f === 3) component = new TextDecoder().decode(v);
    } else if (field === 2) {
      for (const [f, v] of fields(bytes)) if (f === 3) ids.push(recordId(v));
    }
  }
  return { component, ids, bytes: body.length };
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
