/*
 * Fault injection for the local cloud, armed per test:
 *
 *   cloud.faults.add({ kind: "ack-lost", method: "DataCaptureUpload" });
 *   cloud.faults.add({ kind: "status", code: Code.UNAVAILABLE, times: 3 });
 *
 * Each armed fault fires on the next `times` (default 1) matching requests
 * (any method unless `method` is given), in the order they were added, and is
 * counted in `counts` when it fires. See docs/cloud.md for what each kind does
 * on the wire and which client error it produces.
 */

export type RpcMethodName = "Authenticate" | "Config" | "DataCaptureUpload";

export type FaultSpec =
  /** Destroy the TCP connection as soon as the request arrives: the server never handles it. */
  | { kind: "reset" }
  /** Handle the request fully (an upload is stored), then destroy the connection instead of answering. */
  | { kind: "ack-lost" }
  /** Handle the request fully (stored), send the headers and part of the body, then destroy the connection. */
  | { kind: "cut-response" }
  /** Answer with this gRPC status (UNAVAILABLE, INTERNAL, RESOURCE_EXHAUSTED, INVALID_ARGUMENT, …) without handling. */
  | { kind: "status"; code: number; message?: string }
  /** Answer with a bare HTTP status (401, 404, 429, 502, 503, …) and a text body, no gRPC headers. */
  | { kind: "http-status"; status: number }
  /** Wait `ms` before handling normally. */
  | { kind: "delay"; ms: number }
  /** Answer 200 with a broken gRPC-web body. */
  | { kind: "malformed"; variant: MalformedVariant }
  /** Answer 200 with one gRPC-web frame of `bytes` bytes (streamed; stops when the client hangs up). */
  | { kind: "oversized"; bytes: number };

export type MalformedVariant =
  /** Bytes that are not gRPC-web frames at all. */
  | "garbage"
  /** A frame header announcing more bytes than follow. */
  | "truncated"
  /** A frame header announcing 2 GiB, then the connection ends. */
  | "huge-length"
  /** A complete frame whose message is not valid protobuf, then an OK trailer. */
  | "bad-proto"
  /** A valid message frame but no grpc-status anywhere. */
  | "no-status";

export type FaultKind = FaultSpec["kind"];

export type Fault = FaultSpec & {
  method?: RpcMethodName;
  times?: number;
  /**
   * Only uploads whose UploadMetadata.component_name is this (kind "status" only): the fault
   * then fires inside DataCaptureUpload, once the request is read, for that collector alone.
   */
  component?: string;
};

interface Armed {
  fault: Fault;
  left: number;
}

export class Faults {
  private armed: Armed[] = [];
  /** How many times each kind has fired (plus "refuse" and "expired-token" from the cloud itself). */
  readonly counts: Record<string, number> = {};

  add(fault: Fault): this {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new RangeError("fault.times must be positive");
    if (fault.component !== undefined && fault.kind !== "status")
      throw new RangeError("a per-component fault must be of kind status");
    this.armed.push({ fault, left: times });
    return this;
  }

  clear(): void {
    this.armed = [];
  }

  /** Armed faults with firings left. */
  pending(): Fault[] {
    return this.armed.map((a) => a.fault);
  }

  /**
   * Consume the first armed fault matching `method` (and, for a per-component fault, the
   * upload's `component`; `undefined` matches only faults without one), counting it.
   */
  take(method: string, component?: string): Fault | undefined {
    for (let i = 0; i < this.armed.length; i++) {
      const a = this.armed[i]!;
      if (a.fault.method !== undefined && a.fault.method !== method) continue;
      if (a.fault.component !== component) continue;
      a.left--;
      if (a.left <= 0) this.armed.splice(i, 1);
      this.count(a.fault.kind);
      return a.fault;
    }
    return undefined;
  }

  count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
}
