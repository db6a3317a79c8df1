// The device's HTTP/1.1 response parser: every framing, fed in arbitrary
// pieces, and bounded against hostile responses.
import { Http1ResponseParser, HttpParseError } from "../../modules/app/http1-response";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Feed `raw` in random-sized pieces; returns the parser once done. */
function feed(raw: Uint8Array, random: Random, max = 1 << 20): Http1ResponseParser {
  const parser = new Http1ResponseParser(max);
  let at = 0;
  while (at < raw.length && !parser.done) {
    const n = 1 + random.int(16);
    at += parser.push(raw.subarray(at, Math.min(raw.length, at + n)));
  }
  return parser;
}

const body = "\u0000\u0000\u0000\u0000\u0003abc\u0080\u0000\u0000\u0000\u000fgrpc-status:0\r\n";

test("http1: content-length body, split anywhere, headers lower-cased", () => {
  const raw = bytes(
    `HTTP/1.1 200 OK\r\nContent-Type: application/grpc-web+proto\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  for (let seed = 1; seed <= 50; seed++) {
    const parser = feed(raw, new Random(seed));
    assert.ok(parser.done, `seed ${seed}`);
    const response = parser.response();
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "application/grpc-web+proto");
    assert.equal(response.headers.date, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert.equal(text(response.body), body);
    assert.equal(parser.closeAfter, false);
  }
});

test("http1: chunked body with extensions and trailers, split anywhere", () => {
  const chunks = ["\u0000\u0000\u0000\u0000\u0003", "abc", `\u0080${"x".repeat(300)}`];
  let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const c of chunks) wire += `${c.length.toString(16)};ext=1\r\n${c}\r\n`;
  wire += "0\r\nx-trailer: 1\r\n\r\n";
  for (let seed = 1; seed <= 50; seed++) {
    const parser = feed(bytes(wire), new Random(seed));
    assert.ok(parser.done);
    assert.equal(text(parser.response().body), chunks.join(""));
  }
});

test("http1: bytes after a complete response are left unconsumed", () => {
  const parser = new Http1ResponseParser(1024);
  const raw = bytes("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n");
  const used = parser.push(raw);
  assert.ok(parser.done);
  assert.equal(used, "HTTP/1.1 204 No Content\r\n\r\n".length);
});

test("http1: connection: close and HTTP/1.0 mark the connection as not reusable", () => {
  const a = new Http1ResponseParser(1024);
  a.push(bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  assert.ok(a.done && a.closeAfter);
  const b = new Http1ResponseParser(1024);
  b.push(bytes("HTTP/1.0 200 OK\r\n\r\nhello"));
  assert.ok(!b.done, "no framing: body runs to connection close");
  b.endOfStream();
  assert.ok(b.done && b.closeAfter);
  assert.equal(text(b.response().body), "hello");
});

test("http1: oversized bodies fail before allocation, by length or by chunks", () => {
  const a = new Http1ResponseParser(100);
  assert.throws(() => a.push(bytes("HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n")), /exceeds 100/);
  const b = new Http1ResponseParser(100);
  assert.throws(
    () => b.push(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n")),
    /exceeds 100/,
  );
  const c = new Http1ResponseParser(100);
  let error: unknown;
  try {
    c.push(bytes(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(9000)}`));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof HttpParseError && error.tooLarge, "an endless head is cut at 8 KB");
});

test("http1: malformed responses are clear errors", () => {
  const cases: [string, RegExp][] = [
    ["SSH-2.0-OpenSSH\r\n\r\n", /not an HTTP\/1.x status line/],
    ["HTTP/1.1 200 OK\r\nbroken header\r\n\r\n", /malformed header line/],
    ["HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", /bad content-length/],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", /unsupported transfer-encoding/],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /bad chunk size/],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", /chunk not followed by CRLF/],
  ];
  for (const [raw, pattern] of cases) {
    const parser = new Http1ResponseParser(1024);
    assert.throws(() => parser.push(bytes(raw)), pattern, raw.slice(0, 30));
  }
  const truncated = new Http1ResponseParser(1024);
  truncated.push(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
  assert.throws(() => truncated.endOfStream(), /closed mid-response/);
});
