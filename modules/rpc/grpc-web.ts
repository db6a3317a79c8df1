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
 * frames (never negotiated) are refused. The trailer frame is at most
 * MAX_TRAILER_BYTES; its lines end in CRLF or a bare LF (servers and proxies
 * send both); each must be `name: value` with a token name and no control
 * characters in the value, grpc-status must be decimal digits (once), and
 * grpc-message is percent-decoded (RFC 3986 %XX, UTF-8) and cut to
 * MAX_STATUS_MESSAGE characters. A trailer block that breaks any of these is a
 * protocol error (INTERNAL, transport "protocol") naming what is wrong, never a
 * silent UNKNOWN.
 */

import type { HttpResponse } from "../ports";
import { readUtf8 } from "../proto/reader";
import { isTokenChar } from "./http-token";
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

/** Longest grpc-message kept (a hostile server could send megabytes of it). */
export const MAX_STATUS_MESSAGE = 512;
/** Largest trailer frame read: grpc-status, grpc-message and a few more lines fit many times over. */
export const MAX_TRAILER_BYTES = 4096;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Percent-decode a grpc-message value (UTF-8 inside %XX escapes). A `%` not
 * followed by two hex digits stays as it is. Only the first
 * 3 × (MAX_STATUS_MESSAGE + 1) characters are looked at (enough to know the
 * message is longer than what is kept), so the work and the buffer are
 * bounded whatever arrives.
 */
export function decodeGrpcMessage(value: string): string {
  if (value.indexOf("%") < 0) return value;
  const n0 = Math.min(value.length, 3 * (MAX_STATUS_MESSAGE + 1));
  const bytes = new Uint8Array(n0);
  let n = 0;
  for (let i = 0; i < n0; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hi = hexValue(value.charCodeAt(i + 1));
      const lo = hexValue(value.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = c & 0xff;
  }
  return readUtf8(bytes, 0, n);
}

interface Status {
  code: number;
  message: string;
}

/** The status a grpc-status (and grpc-message) pair says; throws a protocol error for a malformed code. */
function statusFrom(
  codeText: string | undefined,
  message: string | undefined,
  where: string,
): Status | undefined {
  if (codeText === undefined) return undefined;
  const trimmed = codeText.trim();
  if (!/^[0-9]{1,10}$/.test(trimmed)) {
    throw protocolError(
      `grpc-status ${JSON.stringify(trimmed.substring(0, 16))} in ${where} is not a number`,
    );
  }
  const code = Number(trimmed);
  let text = decodeGrpcMessage((message ?? "").trim());
  if (text.length > MAX_STATUS_MESSAGE) text = `${text.substring(0, MAX_STATUS_MESSAGE)}…`;
  // gRPC: a code this client does not know is UNKNOWN; say which it was.
  if (code > 16) return { code: Code.UNKNOWN, message: `grpc-status ${code}: ${text}` };
  return { code, message: text };
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

const NAME_GRPC_STATUS = "grpc-status";
const NAME_GRPC_MESSAGE = "grpc-message";

/** Whether body[start, end) is `name`, ASCII case-insensitively (name is lower case). */
function sameName(body: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((body[start + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * The trailer frame's status. Works on the bytes: only the grpc-status and
 * grpc-message values become strings. Lines end in CRLF or LF; the last line
 * may lack an ending.
 */
function parseTrailer(body: Uint8Array, start: number, end: number): Status | undefined {
  if (end - start > MAX_TRAILER_BYTES) {
    throw protocolError(`trailer frame of ${end - start} bytes (more than ${MAX_TRAILER_BYTES})`);
  }
  const ok = okTrailer(body, start, end);
  if (ok) return ok;
  let codeText: string | undefined;
  let message: string | undefined;
  let pos = start;
  let line = 0;
  while (pos < end) {
    line++;
    let lineEnd = pos;
    while (lineEnd < end && body[lineEnd] !== 0x0a) lineEnd++;
    const next = lineEnd + 1;
    if (lineEnd > pos && body[lineEnd - 1] === 0x0d) lineEnd--;
    if (lineEnd === pos) {
      pos = next;
      continue;
    }
    let colon = pos;
    while (colon < lineEnd && body[colon] !== 0x3a) colon++;
    if (colon === lineEnd) throw protocolError(`trailer line ${line} is not "name: value"`);
    if (colon === pos) throw protocolError(`trailer line ${line} has an empty name`);
    for (let i = pos; i < colon; i++) {
      if (!isTokenChar(body[i]!))
        throw protocolError(`trailer line ${line} has a character 0x${body[i]!.toString(16)} in its name`);
    }
    for (let i = colon + 1; i < lineEnd; i++) {
      const c = body[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
        throw protocolError(`trailer line ${line} has control character 0x${c.toString(16)} in its value`);
      }
    }
    if (sameName(body, pos, colon, NAME_GRPC_STATUS)) {
      const value = readUtf8(body, colon + 1, lineEnd);
      if (codeText !== undefined && codeText.trim() !== value.trim())
        throw protocolError("two different grpc-status trailers");
      codeText = value;
    } else if (sameName(body, pos, colon, NAME_GRPC_MESSAGE)) {
      message = readUtf8(body, colon + 1, lineEnd);
    }
    pos = next;
  }
  return statusFrom(codeText, message, "the trailers");
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
  const headerStatus = statusFrom(headers["grpc-status"], headers["grpc-message"], "the headers");
  if (response.status !== 200) {
    if (headerStatus && headerStatus.code !== Code.OK)
      throw new RpcError(headerStatus.code, headerStatus.message);
    throw new RpcError(
      codeForHttpStatus(response.status),
      `HTTP ${response.status}`,
      undefined,
      response.status,
    );
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
