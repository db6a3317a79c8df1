/*
 * gRPC-web framing (unary calls), over any HTTP/1.1 transport.
 *
 * A request body is one frame: flags (0x00), 4-byte big-endian length, the
 * protobuf message. A response body is a data frame (flags 0x00) followed by
 * a trailer frame (flags 0x80) whose payload is HTTP-style "key: value\r\n"
 * lines carrying grpc-status and grpc-message. A server may instead answer
 * "trailers-only": no body, grpc-status in the HTTP headers. Non-200 HTTP
 * statuses without grpc-status map to codes as gRPC specifies.
 *
 * Everything read from the response is bounded: frame lengths are checked
 * against the bytes present, only one data frame is accepted, and compressed
 * frames (never negotiated) are refused.
 */

import type { HttpResponse } from "../ports";
import { readUtf8 } from "../proto/reader";
import { Code, RpcError } from "./status";

export const FRAME_HEADER_BYTES = 5;
export const FLAG_COMPRESSED = 0x01;
export const FLAG_TRAILER = 0x80;
export const GRPC_WEB_CONTENT_TYPE = "application/grpc-web+proto";

/** Fill the 5-byte data-frame header at the start of `frame` (whose message starts at byte 5). */
export function writeFrameHeader(frame: Uint8Array): void {
  const length = frame.length - FRAME_HEADER_BYTES;
  frame[0] = 0;
  frame[1] = (length >>> 24) & 0xff;
  frame[2] = (length >>> 16) & 0xff;
  frame[3] = (length >>> 8) & 0xff;
  frame[4] = length & 0xff;
}

/** gRPC's mapping of an HTTP status (when no grpc-status came with it). */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

/** Percent-decode a grpc-message value (UTF-8 inside %XX escapes). */
export function decodeGrpcMessage(value: string): string {
  if (value.indexOf("%") < 0) return value;
  const bytes = new Uint8Array(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hex = parseInt(value.substring(i + 1, i + 3), 16);
      if (!Number.isNaN(hex)) {
        bytes[n++] = hex;
        i += 2;
        continue;
      }
    }
    bytes[n++] = c & 0xff;
  }
  return readUtf8(bytes, 0, n);
}

/** Longest grpc-message kept (a hostile server could send megabytes of it). */
const MAX_STATUS_MESSAGE = 512;

interface Status {
  code: number;
  message: string;
}

function statusFrom(codeText: string | undefined, message: string | undefined): Status | undefined {
  if (codeText === undefined) return undefined;
  const trimmed = codeText.trim();
  const code = /^\d{1,2}$/.test(trimmed) ? Number(trimmed) : Code.UNKNOWN;
  let text = decodeGrpcMessage((message ?? "").trim());
  if (text.length > MAX_STATUS_MESSAGE) text = `${text.substring(0, MAX_STATUS_MESSAGE)}…`;
  return { code: code <= 16 ? code : Code.UNKNOWN, message: text };
}

const OK_STATUS: Status = Object.freeze({ code: Code.OK, message: "" });
/** Lower-case ASCII of the trailer keys (byte arrays: reading a string's characters allocates in XS). */
const GRPC_STATUS_KEY = new Uint8Array([0x67, 0x72, 0x70, 0x63, 0x2d, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73]);
const GRPC_MESSAGE_KEY = new Uint8Array([
  0x67, 0x72, 0x70, 0x63, 0x2d, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3a,
]);

/**
 * The trailer every successful call ends with — a `grpc-status` line whose
 * value is 0 and no other line but an empty `grpc-message` — recognised on the
 * bytes, without decoding a string (an upload per few hundred readings would
 * otherwise allocate dozens of strings and String wrappers in XS). Anything
 * else returns undefined and takes the general path.
 */
function okTrailer(body: Uint8Array, start: number, end: number): Status | undefined {
  let sawStatus = false;
  let line = start;
  while (line < end) {
    let stop = line;
    while (stop < end && body[stop] !== 0x0d && body[stop] !== 0x0a) stop++;
    if (stop > line) {
      // "grpc-status" (any case) ':' spaces '0' spaces
      let p = line;
      let i = 0;
      for (; i < 11 && p < stop; i++, p++) if ((body[p]! | 0x20) !== GRPC_STATUS_KEY[i]) break;
      if (i === 11 && body[p] === 0x3a) {
        p++;
        while (p < stop && body[p] === 0x20) p++;
        if (body[p] !== 0x30) return undefined;
        p++;
        while (p < stop && body[p] === 0x20) p++;
        if (p !== stop || sawStatus) return undefined;
        sawStatus = true;
      } else {
        // Only an empty grpc-message may accompany it.
        const k = line;
        let j = 0;
        for (; j < 13 && k + j < stop; j++) if ((body[k + j]! | 0x20) !== GRPC_MESSAGE_KEY[j]) break;
        if (j !== 13) return undefined;
        for (let q = k + 13; q < stop; q++) if (body[q] !== 0x20) return undefined;
      }
    }
    line = stop + 1;
  }
  return sawStatus ? OK_STATUS : undefined;
}

function parseTrailer(body: Uint8Array, start: number, end: number): Status | undefined {
  const ok = okTrailer(body, start, end);
  if (ok) return ok;
  const text = readUtf8(body, start, end);
  let codeText: string | undefined;
  let message: string | undefined;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.substring(0, colon).trim().toLowerCase();
    if (key === "grpc-status") codeText = line.substring(colon + 1);
    else if (key === "grpc-message") message = line.substring(colon + 1);
  }
  return statusFrom(codeText, message);
}

function protocolError(message: string): RpcError {
  return new RpcError(Code.INTERNAL, `malformed gRPC-web response: ${message}`, "protocol");
}

/**
 * Turn an HTTP response to a unary gRPC-web call into the response message
 * bytes (a view into `response.body`), or throw the RpcError it carries.
 */
export function readUnaryResponse(response: HttpResponse): Uint8Array {
  const headers = response.headers;
  const headerStatus = statusFrom(headers["grpc-status"], headers["grpc-message"]);
  if (response.status !== 200) {
    if (headerStatus && headerStatus.code !== Code.OK)
      throw new RpcError(headerStatus.code, headerStatus.message);
    throw new RpcError(codeForHttpStatus(response.status), `HTTP ${response.status}`);
  }
  if (headerStatus && headerStatus.code !== Code.OK) {
    // Trailers-only response: the status is all there is.
    throw new RpcError(headerStatus.code, headerStatus.message);
  }
  const contentType = headers["content-type"] ?? "";
  if (!contentType.startsWith("application/grpc-web") && !headerStatus) {
    throw protocolError(`content-type "${contentType.substring(0, 64)}"`);
  }
  const body = response.body;
  let pos = 0;
  let message: Uint8Array | undefined;
  let trailerStatus: Status | undefined;
  while (pos < body.length) {
    if (body.length - pos < FRAME_HEADER_BYTES) throw protocolError("truncated frame header");
    const flags = body[pos]!;
    const length =
      ((body[pos + 1]! << 24) | (body[pos + 2]! << 16) | (body[pos + 3]! << 8) | body[pos + 4]!) >>> 0;
    pos += FRAME_HEADER_BYTES;
    if (length > body.length - pos) {
      throw protocolError(`frame of ${length} bytes with ${body.length - pos} left`);
    }
    if (flags & FLAG_TRAILER) {
      trailerStatus = parseTrailer(body, pos, pos + length);
      pos += length;
      if (pos !== body.length) throw protocolError("bytes after the trailer frame");
      break;
    }
    if (flags & FLAG_COMPRESSED) throw protocolError("compressed frame (compression was not negotiated)");
    if (flags !== 0) throw protocolError(`unknown frame flags 0x${flags.toString(16)}`);
    if (message !== undefined) throw protocolError("more than one message in a unary response");
    message = body.subarray(pos, pos + length);
    pos += length;
  }
  const status = trailerStatus ?? headerStatus;
  if (!status) throw protocolError("no grpc-status in headers or trailers");
  if (status.code !== Code.OK) throw new RpcError(status.code, status.message);
  if (message === undefined) throw protocolError("OK status without a response message");
  return message;
}
