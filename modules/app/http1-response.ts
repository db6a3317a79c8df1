/*
 * Incremental HTTP/1.1 response parser for the device's keep-alive transport.
 *
 * Fed whatever bytes the socket delivers; finishes a response framed by
 * Content-Length or by chunked transfer coding (a gRPC-web server streams, so
 * both occur). A response without either framing ends at connection close
 * (HTTP/1.0 style) and is then not reusable. Interim 1xx responses (100
 * Continue) are skipped.
 *
 * Everything is bounded, and each bound is a clear HttpParseError before
 * anything that size is allocated (`tooLarge` marks the size errors):
 * - the head (status line and header lines): MAX_HEAD_BYTES, kept in one byte
 *   buffer (grown by doubling from 512 B), never a string per byte;
 * - header lines: MAX_HEADER_LINES; each `token: value`, no obsolete line
 *   folding, no whitespace before the colon, no control character but HTAB in
 *   the value; lines end in CRLF or a bare LF;
 * - Content-Length: decimal digits only (or a list of one value repeated),
 *   checked against `maxBodyBytes` before the body buffer is allocated;
 * - Transfer-Encoding: exactly `chunked` (a coding this client cannot undo,
 *   such as gzip, is refused rather than passed on as body);
 * - chunk sizes: parsed as they arrive, refused as soon as the body would pass
 *   `maxBodyBytes` (no overflow, however many hex digits); a chunk-size line
 *   (with extensions) of at most MAX_CHUNK_LINE_BYTES;
 * - the trailer section after the last chunk: MAX_TRAILER_BYTES in all;
 * - interim responses: MAX_INTERIM_RESPONSES.
 */
import type { HttpResponse } from "../ports";
import { isTokenChar } from "../rpc/http-token";

export const MAX_HEAD_BYTES = 8192;
export const MAX_HEADER_LINES = 64;
export const MAX_CHUNK_LINE_BYTES = 1024;
export const MAX_TRAILER_BYTES = 8192;
export const MAX_INTERIM_RESPONSES = 4;
/** Content-Length digits looked at: 15 digits already pass any body this device can hold. */
const MAX_LENGTH_DIGITS = 15;

export class HttpParseError extends Error {
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "HttpParseError" });
    this.tooLarge = tooLarge;
  }
}

type Phase =
  | "head"
  | "body"
  | "chunk-size"
  | "chunk-data"
  | "chunk-crlf"
  | "trailers"
  | "until-close"
  | "done";

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const SEMICOLON = 59;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Bytes as Latin-1 text (header bytes are octets; obs-text stays one character per byte). */
function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 256) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 256)) as unknown as number[]);
  }
  return s;
}

/** A short, escaped rendering of some received bytes for an error message. */
function shown(b: Uint8Array, start: number, end: number): string {
  return JSON.stringify(latin1(b, start, Math.min(end, start + 40)));
}

const hasOwn = Object.prototype.hasOwnProperty;

export class Http1ResponseParser {
  private readonly maxBodyBytes: number;
  private phase: Phase = "head";
  private headBytes: Uint8Array = new Uint8Array(0);
  private headLength = 0;
  private interim = 0;
  private status = 0;
  private headers: Record<string, string> = {};
  private body: Uint8Array = new Uint8Array(0);
  private bodyLength = 0;
  private remaining = 0;
  /** Chunk-size line state: bytes seen, digits, value, inside an extension, a CR seen. */
  private lineBytes = 0;
  private sizeDigits = 0;
  private inExtension = false;
  private sawCR = false;
  /** Trailer section bytes so far, and whether the current trailer line is empty. */
  private trailerBytes = 0;
  private trailerLineEmpty = true;
  private anyByte = false;
  /** True when the server asked to close the connection after this response. */
  closeAfter = false;

  constructor(maxBodyBytes: number) {
    this.maxBodyBytes = maxBodyBytes;
  }

  get done(): boolean {
    return this.phase === "done";
  }

  /** True once any byte of a response arrived (a reused connection that dies before that never saw the request). */
  get started(): boolean {
    return this.anyByte;
  }

  /**
   * Consume bytes; returns how many were used (the rest belong to whatever
   * follows, which for a one-request-at-a-time client is a protocol error).
   */
  push(bytes: Uint8Array): number {
    let i = 0;
    if (bytes.length > 0) this.anyByte = true;
    while (i < bytes.length && this.phase !== "done") {
      switch (this.phase) {
        case "head": {
          const b = bytes[i++]!;
          // Blank lines before a status line are ignored (RFC 9112 §2.2).
          if (this.headLength === 0 && (b === CR || b === LF)) break;
          this.headByte(b);
          break;
        }
        case "body": {
          const n = Math.min(this.remaining, bytes.length - i);
          this.body.set(bytes.subarray(i, i + n), this.bodyLength);
          this.bodyLength += n;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.phase = "done";
          break;
        }
        case "until-close": {
          const n = bytes.length - i;
          this.append(bytes.subarray(i, i + n));
          i += n;
          break;
        }
        case "chunk-size":
          this.chunkSizeByte(bytes[i++]!);
          break;
        case "chunk-crlf":
          this.chunkEndByte(bytes[i++]!);
          break;
        case "trailers":
          this.trailerByte(bytes[i++]!);
          break;
        case "chunk-data": {
          const n = Math.min(this.remaining, bytes.length - i);
          this.append(bytes.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) {
            this.phase = "chunk-crlf";
            this.sawCR = false;
          }
          break;
        }
      }
    }
    return i;
  }

  /** The connection closed: completes an until-close body, otherwise the response is truncated. */
  endOfStream(): void {
    if (this.phase === "until-close") {
      this.phase = "done";
      this.closeAfter = true;
      return;
    }
    if (this.phase !== "done") throw new HttpParseError(`connection closed mid-response (${this.phase})`);
  }

  response(): HttpResponse {
    return { status: this.status, headers: this.headers, body: this.body.subarray(0, this.bodyLength) };
  }

  private headByte(b: number): void {
    if (this.headLength >= MAX_HEAD_BYTES) {
      throw new HttpParseError(`response head exceeds ${MAX_HEAD_BYTES / 1024} KB`, true);
    }
    if (this.headLength === this.headBytes.length) {
      const grown = new Uint8Array(Math.min(MAX_HEAD_BYTES, Math.max(512, this.headBytes.length * 2)));
      grown.set(this.headBytes.subarray(0, this.headLength));
      this.headBytes = grown;
    }
    const h = this.headBytes;
    h[this.headLength++] = b;
    if (b !== LF) return;
    // The head ends at an empty line: LF LF, or LF CR LF (lines end in CRLF or a bare LF).
    const n = this.headLength;
    if ((n >= 2 && h[n - 2] === LF) || (n >= 3 && h[n - 2] === CR && h[n - 3] === LF)) this.endHead();
  }

  private endHead(): void {
    const h = this.headBytes;
    const n = this.headLength;
    this.headLength = 0;
    let pos = 0;
    let lineNumber = 0;
    let count = 0;
    const headers: Record<string, string> = {};
    while (pos < n) {
      let end = pos;
      while (h[end] !== LF) end++;
      const next = end + 1;
      if (end > pos && h[end - 1] === CR) end--;
      lineNumber++;
      if (lineNumber === 1) {
        this.statusLine(h, pos, end);
        pos = next;
        continue;
      }
      if (end === pos) break;
      if (h[pos] === SP || h[pos] === HTAB) {
        throw new HttpParseError(`malformed header line ${shown(h, pos, end)}: obsolete line folding`);
      }
      let colon = pos;
      while (colon < end && h[colon] !== COLON) colon++;
      if (colon === end || colon === pos) {
        throw new HttpParseError(`malformed header line ${shown(h, pos, end)}: no "name:"`);
      }
      for (let k = pos; k < colon; k++) {
        if (!isTokenChar(h[k]!)) {
          throw new HttpParseError(
            `malformed header line ${shown(h, pos, end)}: character 0x${h[k]!.toString(16)} in the name`,
          );
        }
      }
      let valueStart = colon + 1;
      let valueEnd = end;
      while (valueStart < valueEnd && (h[valueStart] === SP || h[valueStart] === HTAB)) valueStart++;
      while (valueEnd > valueStart && (h[valueEnd - 1] === SP || h[valueEnd - 1] === HTAB)) valueEnd--;
      for (let k = valueStart; k < valueEnd; k++) {
        const c = h[k]!;
        if ((c < SP && c !== HTAB) || c === 0x7f) {
          throw new HttpParseError(
            `malformed header line ${shown(h, pos, end)}: control character 0x${c.toString(16)} in the value`,
          );
        }
      }
      if (++count > MAX_HEADER_LINES)
        throw new HttpParseError(`more than ${MAX_HEADER_LINES} header lines`, true);
      const name = latin1(h, pos, colon).toLowerCase();
      const value = latin1(h, valueStart, valueEnd);
      // A header named like an Object.prototype member must not reach the prototype.
      if (name !== "__proto__")
        headers[name] = hasOwn.call(headers, name) ? `${headers[name]}, ${value}` : value;
      pos = next;
    }

    // 1xx: an interim response (100 Continue, 103 Early Hints); the real one follows.
    if (this.status >= 100 && this.status < 200) {
      if (this.status === 101) throw new HttpParseError("unexpected 101 Switching Protocols");
      if (++this.interim > MAX_INTERIM_RESPONSES) {
        throw new HttpParseError(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
      }
      return;
    }
    this.headers = headers;
    const connection = headers.connection?.toLowerCase() ?? "";
    if (connection.includes("close")) this.closeAfter = true;
    const encoding = headers["transfer-encoding"];
    const length = headers["content-length"];
    if (this.status === 204 || this.status === 304) {
      this.phase = "done";
    } else if (encoding !== undefined) {
      if (encoding.toLowerCase() !== "chunked") {
        throw new HttpParseError(`unsupported transfer-encoding "${encoding.slice(0, 40)}" (only chunked)`);
      }
      // Both framings: Transfer-Encoding wins, and the connection is not trusted after it (RFC 9112 §6.1).
      if (length !== undefined) this.closeAfter = true;
      this.phase = "chunk-size";
      this.resetChunkLine();
    } else if (length !== undefined) {
      const n = this.contentLength(length);
      if (n > this.maxBodyBytes)
        throw new HttpParseError(`response body of ${n} bytes exceeds ${this.maxBodyBytes}`, true);
      this.body = new Uint8Array(n);
      this.remaining = n;
      this.phase = n === 0 ? "done" : "body";
    } else {
      this.phase = "until-close";
    }
  }

  private statusLine(h: Uint8Array, pos: number, end: number): void {
    // "HTTP/1.x NNN" then a space and a reason, or nothing.
    const prefix = "HTTP/1.";
    let ok = end - pos >= 12;
    for (let k = 0; ok && k < prefix.length; k++) ok = h[pos + k] === prefix.charCodeAt(k);
    const minor = h[pos + 7];
    ok = ok && (minor === 0x30 || minor === 0x31) && h[pos + 8] === SP;
    let status = 0;
    for (let k = 9; ok && k < 12; k++) {
      const d = h[pos + k]! - 0x30;
      ok = d >= 0 && d <= 9;
      status = status * 10 + d;
    }
    ok = ok && (end - pos === 12 || h[pos + 12] === SP);
    if (!ok || status < 100) throw new HttpParseError(`not an HTTP/1.x status line: ${shown(h, pos, end)}`);
    this.status = status;
    if (minor === 0x30) this.closeAfter = true;
  }

  /** Content-Length: digits, or a list of the same digits repeated (RFC 9110 §8.6); anything else is an error. */
  private contentLength(text: string): number {
    let value = -1;
    for (const part of text.split(",")) {
      const digits = part.trim();
      if (!/^[0-9]+$/.test(digits)) throw new HttpParseError(`bad content-length "${text.slice(0, 40)}"`);
      // Leading zeros do not count against the bound; more significant digits than that are too large anyway.
      const significant = digits.replace(/^0+(?=.)/, "");
      if (significant.length > MAX_LENGTH_DIGITS) {
        throw new HttpParseError(
          `response body of ${significant.length} digits exceeds ${this.maxBodyBytes}`,
          true,
        );
      }
      const n = Number(significant);
      if (value >= 0 && n !== value)
        throw new HttpParseError(`conflicting content-length values "${text.slice(0, 40)}"`);
      value = n;
    }
    return value;
  }

  private resetChunkLine(): void {
    this.remaining = 0;
    this.lineBytes = 0;
    this.sizeDigits = 0;
    this.inExtension = false;
    this.sawCR = false;
  }

  /** One byte of a chunk-size line: hex digits, optional ";extension", CRLF (or LF). */
  private chunkSizeByte(b: number): void {
    if (++this.lineBytes > MAX_CHUNK_LINE_BYTES) {
      throw new HttpParseError(`chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
    }
    if (this.sawCR && b !== LF) throw new HttpParseError("chunk-size line: CR not followed by LF");
    if (b === LF) {
      if (this.sizeDigits === 0) throw new HttpParseError("bad chunk size: no hex digits");
      if (this.remaining === 0) {
        this.phase = "trailers";
        this.trailerBytes = 0;
        this.trailerLineEmpty = true;
      } else this.phase = "chunk-data";
      return;
    }
    if (b === CR) {
      this.sawCR = true;
      return;
    }
    if (this.inExtension) {
      if ((b < SP && b !== HTAB) || b === 0x7f) {
        throw new HttpParseError(`bad chunk extension: control character 0x${b.toString(16)}`);
      }
      return;
    }
    if (b === SEMICOLON || ((b === SP || b === HTAB) && this.sizeDigits > 0)) {
      if (this.sizeDigits === 0) throw new HttpParseError("bad chunk size: no hex digits");
      this.inExtension = true;
      return;
    }
    const d = hexValue(b);
    if (d < 0) throw new HttpParseError(`bad chunk size: byte 0x${b.toString(16)}`);
    this.sizeDigits++;
    // Checked per digit: the size can never pass the body bound, so it never overflows either.
    this.remaining = this.remaining * 16 + d;
    if (this.bodyLength + this.remaining > this.maxBodyBytes) {
      throw new HttpParseError(`response body exceeds ${this.maxBodyBytes} bytes`, true);
    }
  }

  /** The CRLF (or LF) after a chunk's data. */
  private chunkEndByte(b: number): void {
    if (b === CR && !this.sawCR) {
      this.sawCR = true;
      return;
    }
    if (b !== LF) throw new HttpParseError("chunk not followed by CRLF");
    this.phase = "chunk-size";
    this.resetChunkLine();
  }

  /** The trailer section after the last chunk: skipped, bounded, ends at an empty line. */
  private trailerByte(b: number): void {
    if (++this.trailerBytes > MAX_TRAILER_BYTES) {
      throw new HttpParseError(`chunked trailer section exceeds ${MAX_TRAILER_BYTES} bytes`, true);
    }
    if (b === LF) {
      if (this.trailerLineEmpty) this.phase = "done";
      this.trailerLineEmpty = true;
      return;
    }
    if (b === CR) return;
    if ((b < SP && b !== HTAB) || b === 0x7f) {
      throw new HttpParseError(`chunked trailer: control character 0x${b.toString(16)}`);
    }
    this.trailerLineEmpty = false;
  }

  /** Grow geometrically (bounded by maxBodyBytes) so a chunked body costs O(log n) copies. */
  private append(bytes: Uint8Array): void {
    const needed = this.bodyLength + bytes.length;
    if (needed > this.maxBodyBytes)
      throw new HttpParseError(`response body exceeds ${this.maxBodyBytes} bytes`, true);
    if (needed > this.body.length) {
      let size = Math.max(256, this.body.length * 2);
      while (size < needed) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxBodyBytes));
      grown.set(this.body.subarray(0, this.bodyLength));
      this.body = grown;
    }
    this.body.set(bytes, this.bodyLength);
    this.bodyLength = needed;
  }
}
