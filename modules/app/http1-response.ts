/*
 * Incremental HTTP/1.1 response parser for the device's keep-alive transport.
 *
 * Fed whatever bytes the socket delivers; finishes a response framed by
 * Content-Length or by chunked transfer coding (a gRPC-web server streams, so
 * both occur). Bounded: a head over 8 KB or a body over `maxBodyBytes` fails
 * at once, before anything that size is allocated, so a hostile or broken
 * server cannot exhaust the heap. A response without either framing ends at
 * connection close (HTTP/1.0 style) and is then not reusable.
 */
import type { HttpResponse } from "../ports";

const MAX_HEAD_BYTES = 8192;

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

export class Http1ResponseParser {
  private readonly maxBodyBytes: number;
  private phase: Phase = "head";
  private head = "";
  private line = "";
  private status = 0;
  private headers: Record<string, string> = {};
  private body: Uint8Array = new Uint8Array(0);
  private bodyLength = 0;
  private remaining = 0;
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
    return this.phase !== "head" || this.head.length > 0;
  }

  /**
   * Consume bytes; returns how many were used (the rest belong to whatever
   * follows, which for a one-request-at-a-time client is a protocol error).
   */
  push(bytes: Uint8Array): number {
    let i = 0;
    while (i < bytes.length && this.phase !== "done") {
      switch (this.phase) {
        case "head": {
          const b = bytes[i++]!;
          this.head += String.fromCharCode(b);
          if (this.head.length > MAX_HEAD_BYTES) throw new HttpParseError("response head exceeds 8 KB", true);
          if (b === 10 && this.head.endsWith("\r\n\r\n")) this.endHead();
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
        case "chunk-crlf":
        case "trailers": {
          const b = bytes[i++]!;
          this.line += String.fromCharCode(b);
          if (this.line.length > 1024) throw new HttpParseError("chunk framing line too long");
          if (b === 10) this.endLine();
          break;
        }
        case "chunk-data": {
          const n = Math.min(this.remaining, bytes.length - i);
          this.append(bytes.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.phase = "chunk-crlf";
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

  private endHead(): void {
    const lines = this.head.split("\r\n");
    this.head = " ";
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!statusLine) throw new HttpParseError(`not an HTTP/1.x status line: "${lines[0]!.slice(0, 40)}"`);
    this.status = Number(statusLine[1]);
    if (lines[0]!.startsWith("HTTP/1.0")) this.closeAfter = true;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpParseError(`malformed header line "${line.slice(0, 40)}"`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      this.headers[name] = this.headers[name] === undefined ? value : `${this.headers[name]}, ${value}`;
    }
    const connection = this.headers.connection?.toLowerCase() ?? "";
    if (connection.includes("close")) this.closeAfter = true;
    const encoding = this.headers["transfer-encoding"]?.toLowerCase();
    const length = this.headers["content-length"];
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
      this.phase = "done";
    } else if (encoding !== undefined) {
      if (!encoding.endsWith("chunked"))
        throw new HttpParseError(`unsupported transfer-encoding "${encoding}"`);
      this.phase = "chunk-size";
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new HttpParseError(`bad content-length "${length}"`);
      const n = Number(length);
      if (n > this.maxBodyBytes)
        throw new HttpParseError(`response body of ${n} bytes exceeds ${this.maxBodyBytes}`, true);
      this.body = new Uint8Array(n);
      this.remaining = n;
      this.phase = n === 0 ? "done" : "body";
    } else {
      this.phase = "until-close";
    }
  }

  private endLine(): void {
    const line = this.line.slice(0, -2);
    if (!this.line.endsWith("\r\n")) throw new HttpParseError("chunk framing line not ended by CRLF");
    this.line = "";
    if (this.phase === "chunk-crlf") {
      if (line !== "") throw new HttpParseError("chunk not followed by CRLF");
      this.phase = "chunk-size";
    } else if (this.phase === "chunk-size") {
      const size = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line);
      if (!size) throw new HttpParseError(`bad chunk size "${line.slice(0, 20)}"`);
      this.remaining = Number.parseInt(size[1]!, 16);
      if (this.bodyLength + this.remaining > this.maxBodyBytes) {
        throw new HttpParseError(`response body exceeds ${this.maxBodyBytes} bytes`, true);
      }
      this.phase = this.remaining === 0 ? "trailers" : "chunk-data";
    } else if (line === "") {
      this.phase = "done";
    }
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
