/*
 * Unary gRPC-web calls over the HttpTransport port. One call in flight per
 * client is the device's normal case; the frame buffer is then reused, so a
 * call allocates nothing proportional to the request. Upload requests are
 * built in place behind 5 bytes of header room and sent with `unaryFramed`,
 * so the request buffer is never copied into a second one.
 */

import { type HttpResponse, type HttpTransport, TransportError } from "../ports";
import { FRAME_HEADER_BYTES, GRPC_WEB_CONTENT_TYPE, readUnaryResponse, writeFrameHeader } from "./grpc-web";
import { Code, RpcError } from "./status";

export interface CallOptions {
  /** Deadline for the whole exchange; also sent as grpc-timeout. */
  timeoutMs?: number;
  /** Response bodies longer than this fail with RESOURCE_EXHAUSTED and the connection is dropped. */
  maxResponseBytes?: number;
  /** Extra request headers (lower-case names), e.g. authorization. */
  headers?: Record<string, string>;
}

export interface GrpcWebClientOptions {
  transport: HttpTransport;
  /** Default deadline per call; 30 s. */
  timeoutMs?: number;
  /** Default response size limit; 64 KiB. */
  maxResponseBytes?: number;
  userAgent?: string;
}

/** Map a transport failure to the RpcError sync's retry policy reads. */
export function rpcErrorFromTransport(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof TransportError) {
    const code =
      error.kind === "timeout"
        ? Code.DEADLINE_EXCEEDED
        : error.kind === "too-large"
          ? Code.RESOURCE_EXHAUSTED
          : Code.UNAVAILABLE;
    return new RpcError(code, error.message, error.kind);
  }
  return new RpcError(Code.UNKNOWN, (error as Error)?.message ?? String(error), "other");
}

export class GrpcWebClient {
  readonly transport: HttpTransport;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private frame = new Uint8Array(0);
  private frameBusy = false;
  private lastHeaders: Record<string, string> | undefined;
  private lastTimeoutMs = 0;
  private lastExtra: Record<string, string> | undefined;

  constructor(options: GrpcWebClientOptions) {
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.userAgent = options.userAgent ?? "capsync grpc-web";
  }

  /** Call `path` with a serialized request message; resolves to the response message bytes. */
  async unary(path: string, message: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    const need = message.length + FRAME_HEADER_BYTES;
    let frame: Uint8Array;
    const reuse = !this.frameBusy;
    if (reuse) {
      // Exactly what this call needs, never a doubling: uploads go through unaryFramed (no copy),
      // so this buffer only ever holds small control requests (Authenticate, Config).
      if (this.frame.length < need) this.frame = new Uint8Array(need);
      frame = this.frame.subarray(0, need);
      this.frameBusy = true;
    } else frame = new Uint8Array(need);
    frame.set(message, FRAME_HEADER_BYTES);
    try {
      return await this.unaryFramed(path, frame, options);
    } finally {
      if (reuse) this.frameBusy = false;
    }
  }

  /**
   * The request headers for a deadline and extra headers. The last set is
   * kept and handed out again while neither changed (the same deadline and
   * the same `extra` object, e.g. a token's authorization): uploads then
   * build no header object or timeout string per request. Transports treat
   * request headers as read-only.
   */
  private headersFor(timeoutMs: number, extra: Record<string, string> | undefined): Record<string, string> {
    if (this.lastHeaders && this.lastTimeoutMs === timeoutMs && this.lastExtra === extra)
      return this.lastHeaders;
    const headers: Record<string, string> = {
      "content-type": GRPC_WEB_CONTENT_TYPE,
      "x-grpc-web": "1",
      "x-user-agent": this.userAgent,
      "grpc-timeout": `${Math.max(1, Math.ceil(timeoutMs))}m`,
    };
    if (extra) for (const key in extra) headers[key] = extra[key]!;
    this.lastHeaders = headers;
    this.lastTimeoutMs = timeoutMs;
    this.lastExtra = extra;
    return headers;
  }

  /**
   * Call with a request whose first 5 bytes are room for the frame header
   * (e.g. built by `encodeUploadRequest(w, meta, data, 5)`): no copy at all.
   */
  async unaryFramed(path: string, frame: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    writeFrameHeader(frame);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const headers = this.headersFor(timeoutMs, options.headers);
    let response: HttpResponse;
    try {
      response = await this.transport.request({
        path,
        headers,
        body: frame,
        timeoutMs,
        maxResponseBytes: options.maxResponseBytes ?? this.maxResponseBytes,
      });
    } catch (error) {
      throw rpcErrorFromTransport(error);
    }
    return readUnaryResponse(response);
  }
}
