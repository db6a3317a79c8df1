// The device's HTTP/1.1 response parser against hostile and broken servers: every unbounded size
// (head, header count, Content-Length, chunk sizes, chunk lines, trailers, interim responses) is a
// clear HttpParseError with a bound, and malformed lines are named.
import {
  Http1ResponseParser,
  HttpParseError,
  MAX_HEAD_BYTES,
  MAX_HEADER_LINES,
} from "../../modules/app/http1-response";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Feed `raw` in pieces of 1..16 bytes; returns the parser, or the HttpParseError it threw. */
function feed(raw: string | Uint8Array, max = 1 << 16, seed = 1): Http1ResponseParser | HttpParseError {
  const data = typeof raw === "string" ? bytes(raw) : raw;
  const parser = new Http1ResponseParser(max);
  const random = new Random(seed);
  let at = 0;
  try {
    while (at < data.length && !parser.done) {
      const n = 1 + random.int(16);
      at += parser.push(data.subarray(at, Math.min(data.length, at + n)));
    }
  } catch (error) {
    if (error instanceof HttpParseError) return error;
    throw error;
  }
  return parser;
}

function parseError(raw: string | Uint8Array, max = 1 << 16): HttpParseError {
  for (const seed of [1, 2, 3]) {
    const r = feed(raw, max, seed);
    if (!(r instanceof HttpParseError))
      throw new Error(
        `accepted: ${JSON.stringify(text(typeof raw === "string" ? bytes(raw) : raw).slice(0, 80))}`,
      );
    if (seed === 3) return r;
  }
  throw new Error("unreachable");
}

function parsed(raw: string, max = 1 << 16): Http1ResponseParser {
  for (const seed of [1, 2, 3]) {
    const r = feed(raw, max, seed);
    if (r instanceof HttpParseError)
      throw new Error(`refused (${r.message}): ${JSON.stringify(raw.slice(0, 80))}`);
    assert.ok(r.done, `not done: ${JSON.stringify(raw.slice(0, 80))}`);
    if (seed === 3) return r;
  }
  throw new Error("unreachable");
}

const OK = "HTTP/1.1 200 OK\r\n";

test("http1 bounds: header lines are counted: more than 64 is an error, 64 is fine", () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}\r\n`).join("");
  const e = parseError(`${OK}${lines(MAX_HEADER_LINES + 1)}content-length: 0\r\n\r\n`);
  assert.ok(/more than 64 header lines/.test(e.message), e.message);
  assert.ok(e.tooLarge);
  assert.equal(parsed(`${OK}${lines(MAX_HEADER_LINES - 1)}content-length: 0\r\n\r\n`).response().status, 200);
  // 2 700 tiny headers fit in 8 KB: the count, not the head size, stops them.
  const tiny = parseError(`${OK}${"a:\r\n".repeat(2000)}\r\n`);
  assert.ok(/more than 64 header lines/.test(tiny.message), tiny.message);
});

test("http1 bounds: the head is cut at 8 KB however it arrives (one long line, many lines)", () => {
  for (const head of [`${OK}x: ${"a".repeat(MAX_HEAD_BYTES)}`, `${OK}${"x-a: b\r\n".repeat(1200)}`]) {
    const e = parseError(head);
    assert.ok(e.tooLarge && /head exceeds 8 KB|more than 64 header lines/.test(e.message), e.message);
  }
  // Exactly at the bound is still read.
  const filler = MAX_HEAD_BYTES - OK.length - "content-length: 0\r\n\r\n".length - "x: \r\n".length;
  assert.equal(
    parsed(`${OK}x: ${"a".repeat(filler)}\r\ncontent-length: 0\r\n\r\n`).response().headers.x!.length,
    filler,
  );
});

test("http1 bounds: malformed header lines are named", () => {
  const cases: [string, RegExp][] = [
    [`${OK}no colon here\r\n\r\n`, /malformed header line "no colon here": no "name:"/],
    [`${OK}: empty name\r\n\r\n`, /malformed header line ": empty name": no "name:"/],
    [`${OK}x-a: 1\r\n folded\r\n\r\n`, /obsolete line folding/],
    [`${OK}x-a: 1\r\n\tfolded\r\n\r\n`, /obsolete line folding/],
    [`${OK}content-length : 0\r\n\r\n`, /character 0x20 in the name/],
    [`${OK}x(a): 1\r\n\r\n`, /character 0x28 in the name/],
    [`${OK}x-a: nul\u0000inside\r\n\r\n`, /control character 0x0 in the value/],
    [`${OK}x-a: bare\rcr\r\n\r\n`, /control character 0xd in the value/],
    [`${OK}x-a: del\u007f\r\n\r\n`, /control character 0x7f in the value/],
  ];
  for (const [raw, why] of cases) {
    const e = parseError(raw);
    assert.ok(why.test(e.message), e.message);
    assert.ok(!e.tooLarge);
  }
});

test("http1 bounds: Content-Length: digits only, bounded before allocation, one value", () => {
  const refused: [string, RegExp, boolean][] = [
    ["-5", /bad content-length "-5"/, false],
    ["+5", /bad content-length/, false],
    ["1e3", /bad content-length/, false],
    ["0x10", /bad content-length/, false],
    ["", /bad content-length/, false],
    ["5 5", /bad content-length/, false],
    ["5, 6", /conflicting content-length values "5, 6"/, false],
    ["99999999999999999999999999999999", /exceeds 100/, true],
    ["4294967296", /response body of 4294967296 bytes exceeds 100/, true],
    ["101", /exceeds 100/, true],
  ];
  for (const [value, why, tooLarge] of refused) {
    const e = parseError(`${OK}content-length: ${value}\r\n\r\n`, 100);
    assert.ok(why.test(e.message), `${value}: ${e.message}`);
    assert.equal(e.tooLarge, tooLarge, value);
  }
  const list = parsed(`${OK}Content-Length: 3, 3\r\n\r\nabc`, 100);
  assert.equal(text(list.response().body), "abc");
  const zeros = parsed(`${OK}Content-Length: 000000000000000000000003\r\n\r\nabc`, 100);
  assert.equal(text(zeros.response().body), "abc");
  assert.equal(
    text(parsed(`${OK}Content-Length: 100\r\n\r\n${"z".repeat(100)}`, 100).response().body).length,
    100,
  );
});

test("http1 bounds: chunk sizes never overflow and are bounded as they arrive", () => {
  const TE = `${OK}Transfer-Encoding: chunked\r\n\r\n`;
  const cases: [string, RegExp, boolean][] = [
    [`${TE}${"f".repeat(40)}\r\n`, /response body exceeds 100 bytes/, true],
    [`${TE}ffffffffffffffff\r\n`, /exceeds 100/, true],
    [`${TE}65\r\n`, /exceeds 100/, true],
    [`${TE}32\r\n${"a".repeat(50)}\r\n33\r\n`, /exceeds 100/, true],
    [`${TE};ext\r\n`, /bad chunk size: no hex digits/, false],
    [`${TE}\r\n`, /bad chunk size: no hex digits/, false],
    [`${TE}-1\r\n`, /bad chunk size: byte 0x2d/, false],
    [`${TE}0x5\r\n`, /bad chunk size: byte 0x78/, false],
    [`${TE}5;${"e".repeat(2000)}\r\n`, /chunk-size line longer than 1024 bytes/, false],
    [`${TE}5;e=\u0001\r\n`, /bad chunk extension: control character 0x1/, false],
    [`${TE}5\rX`, /CR not followed by LF/, false],
    [`${TE}3\r\nabcX`, /chunk not followed by CRLF/, false],
    [`${TE}0\r\n${"x-t: 1\r\n".repeat(1100)}`, /chunked trailer section exceeds 8192 bytes/, true],
    [`${TE}0\r\nx-t: a\u0000b\r\n\r\n`, /chunked trailer: control character 0x0/, false],
  ];
  for (const [raw, why, tooLarge] of cases) {
    const e = parseError(raw, 100);
    assert.ok(why.test(e.message), `${JSON.stringify(raw.slice(-30))}: ${e.message}`);
    assert.equal(e.tooLarge, tooLarge, e.message);
  }
  // Leading zeros, extensions with whitespace, bare-LF framing and a trailer all work.
  const p = parsed(`${TE}0003 ;a=b\r\nabc\r\n2\nde\n0\nx-t: 1\n\n`, 100);
  assert.equal(text(p.response().body), "abcde");
  assert.equal(text(parsed(`${TE}${"0".repeat(40)}5\r\nabcde\r\n0\r\n\r\n`, 100).response().body), "abcde");
});

test("http1 bounds: only chunked transfer coding is accepted; with Content-Length too, chunked wins and the connection closes", () => {
  for (const coding of ["gzip, chunked", "gzip", "chunked, gzip", "identity"]) {
    const e = parseError(`${OK}Transfer-Encoding: ${coding}\r\n\r\n`);
    assert.ok(/unsupported transfer-encoding/.test(e.message), e.message);
  }
  const both = parsed(`${OK}Content-Length: 99\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`);
  assert.equal(text(both.response().body), "abc");
  assert.ok(both.closeAfter, "a response framed two ways does not keep the connection");
});

test("http1 bounds: status lines are exact; interim 1xx responses are skipped, a bounded number of them", () => {
  for (const bad of [
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.2 200 OK\r\n\r\n",
    "HTTP/2 200\r\n\r\n",
    "HTTP/1.1 099 x\r\n\r\n",
    "HTTP/1.1  200 OK\r\n\r\n",
    "http/1.1 200 OK\r\n\r\n",
  ]) {
    const e = parseError(bad);
    assert.ok(/not an HTTP\/1.x status line/.test(e.message), `${bad}: ${e.message}`);
  }
  assert.equal(parsed("HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n").response().status, 200);
  assert.equal(
    parsed("\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").response().status,
    204,
    "blank lines before",
  );
  const continued = parsed(
    `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: x\r\n\r\n${OK}content-length: 2\r\n\r\nhi`,
  );
  assert.equal(continued.response().status, 200);
  assert.equal(continued.response().headers.link, undefined, "interim headers are not the response's");
  assert.equal(text(continued.response().body), "hi");
  const many = parseError(`${"HTTP/1.1 100 Continue\r\n\r\n".repeat(5)}${OK}\r\n`);
  assert.ok(/more than 4 interim \(1xx\) responses/.test(many.message), many.message);
  assert.ok(/unexpected 101/.test(parseError("HTTP/1.1 101 Switching Protocols\r\n\r\n").message));
});

test("http1 bounds: bare-LF heads parse; hostile header names stay data", () => {
  const p = parsed("HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\nx-a: 2\n\nok");
  assert.equal(p.response().headers["x-a"], "1, 2");
  assert.equal(text(p.response().body), "ok");
  const hostile = parsed(
    `${OK}__proto__: polluted\r\nconstructor: c\r\ntoString: t\r\ncontent-length: 0\r\n\r\n`,
  );
  const headers = hostile.response().headers;
  assert.equal(headers.constructor as unknown, "c");
  assert.equal(headers.tostring, "t");
  assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(!Object.keys(headers).includes("__proto__"));
});

test("http1 bounds: random corruptions of valid responses end in a response or an HttpParseError, within bounds", () => {
  const valid = [
    `${OK}Content-Type: application/grpc-web+proto\r\nContent-Length: 10\r\n\r\n0123456789`,
    `${OK}Transfer-Encoding: chunked\r\n\r\n5;x=1\r\nabcde\r\n3\r\nfgh\r\n0\r\nx-t: 1\r\n\r\n`,
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest",
  ];
  const random = new Random(77);
  for (let i = 0; i < 3000; i++) {
    const raw = bytes(valid[i % valid.length]!);
    for (let k = random.int(4); k >= 0; k--) raw[random.int(raw.length)] = random.int(256);
    const cut = raw.subarray(0, random.int(raw.length + 1));
    const r = feed(cut, 64, i);
    if (r instanceof HttpParseError) continue;
    if (r.done) assert.ok(r.response().body.length <= 64);
    else {
      try {
        r.endOfStream();
        assert.ok(r.done && r.response().body.length <= 64);
      } catch (error) {
        assert.ok(error instanceof HttpParseError, `iteration ${i}: ${(error as Error)?.message}`);
      }
    }
  }
});
