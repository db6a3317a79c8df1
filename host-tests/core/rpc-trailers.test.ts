// gRPC-web trailer frames: CRLF and bare-LF lines, percent-decoded grpc-message, bounded sizes, and
// every malformed trailer block a clear protocol error (never a silent UNKNOWN).
import type { HttpResponse } from "../../modules/ports";
import {
  decodeGrpcMessage,
  MAX_STATUS_MESSAGE,
  MAX_TRAILER_BYTES,
  readUnaryResponse,
} from "../../modules/rpc/grpc-web";
import { Code, RpcError } from "../../modules/rpc/status";
import { assert, test } from "../harness/index";
import { enc, frame } from "../support/grpc-web-frames";

const MESSAGE = new Uint8Array([0x0a, 0x01, 0x78]);

/** A data frame then a trailer frame holding `trailer` (bytes as given, Latin-1). */
function response(trailer: string, withMessage = true): HttpResponse {
  const data = withMessage ? frame(0, MESSAGE) : new Uint8Array(0);
  const t = frame(0x80, enc(trailer));
  const body = new Uint8Array(data.length + t.length);
  body.set(data, 0);
  body.set(t, data.length);
  return { status: 200, headers: { "content-type": "application/grpc-web+proto" }, body };
}

function outcome(r: HttpResponse): { message?: Uint8Array; error?: RpcError } {
  try {
    return { message: readUnaryResponse(r) };
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    return { error };
  }
}

test("trailers: CRLF, bare LF, mixed and unterminated lines all carry the status", () => {
  const forms = [
    "grpc-status: 3\r\ngrpc-message: bad%20thing\r\n",
    "grpc-status: 3\ngrpc-message: bad%20thing\n",
    "grpc-status: 3\ngrpc-message: bad%20thing",
    "grpc-message: bad%20thing\r\ngrpc-status:3\n",
    "GRPC-STATUS:   3  \nGrpc-Message:bad%20thing\r\n\r\n",
    "x-other: 1\ngrpc-status: 3\r\ngrpc-message: bad%20thing\nx-more: a:b:c\n",
    "\ngrpc-status: 3\r\n\r\ngrpc-message: bad%20thing\r",
  ];
  for (const form of forms) {
    const { error } = outcome(response(form));
    assert.ok(error, JSON.stringify(form));
    assert.equal(error.code, Code.INVALID_ARGUMENT, JSON.stringify(form));
    assert.equal(error.message, "INVALID_ARGUMENT: bad thing", JSON.stringify(form));
    assert.equal(error.transport, undefined);
  }
  for (const ok of ["grpc-status: 0\n", "grpc-status:0", "grpc-status: 0\r\n"]) {
    assert.deepEqual(outcome(response(ok)).message, MESSAGE, JSON.stringify(ok));
  }
});

test("trailers: grpc-message is percent-decoded as UTF-8; a stray % stays", () => {
  const cases: [string, string][] = [
    ["quota%20exceeded%20%E2%9C%93", "quota exceeded ✓"],
    ["100%25 sure", "100% sure"],
    ["a%2", "a%2"],
    ["a%4g", "a%4g"],
    ["%zz%41", "%zzA"],
    ["%e2%9c%93", "✓"],
    ["%FF", "\ufffd"],
    ["plain", "plain"],
  ];
  for (const [wire, text] of cases) {
    assert.equal(decodeGrpcMessage(wire), text, wire);
    const { error } = outcome(response(`grpc-status: 13\ngrpc-message: ${wire}\n`));
    assert.equal(error?.message, `INTERNAL: ${text}`, wire);
  }
});

test("trailers: a code beyond 16 is UNKNOWN and says which code came", () => {
  const { error } = outcome(response("grpc-status: 42\ngrpc-message: odd\n"));
  assert.equal(error?.code, Code.UNKNOWN);
  assert.equal(error?.message, "UNKNOWN: grpc-status 42: odd");
});

test("trailers: malformed blocks are clear protocol errors, never a silent UNKNOWN", () => {
  const cases: [string, string, RegExp][] = [
    ["status not a number", "grpc-status: abc\n", /grpc-status "abc" in the trailers is not a number/],
    ["status negative", "grpc-status: -1\n", /grpc-status "-1" in the trailers is not a number/],
    ["status empty", "grpc-status:\n", /grpc-status "" in the trailers is not a number/],
    ["status with text", "grpc-status: 0 OK\n", /grpc-status "0 OK"/],
    ["a line without a colon", "grpc-status: 0\nbroken line\n", /trailer line 2 is not "name: value"/],
    ["an empty name", ": 0\n", /trailer line 1 has an empty name/],
    ["a space in the name", "grpc status: 0\n", /trailer line 1 has a character 0x20 in its name/],
    ["a space before the colon", "grpc-status : 0\n", /character 0x20 in its name/],
    [
      "a NUL in a value",
      "grpc-status: 0\ngrpc-message: a\u0000b\n",
      /trailer line 2 has control character 0x0/,
    ],
    ["a bare CR inside a value", "grpc-status: 0\rgrpc-message: x\n", /control character 0xd/],
    ["two different statuses", "grpc-status: 0\ngrpc-status: 13\n", /two different grpc-status trailers/],
    ["a trailer frame with no status", "grpc-message: hello\n", /no grpc-status in headers or trailers/],
  ];
  for (const [name, trailer, why] of cases) {
    const { error } = outcome(response(trailer));
    assert.ok(error, `${name}: accepted`);
    assert.equal(error.code, Code.INTERNAL, name);
    assert.equal(error.transport, "protocol", name);
    assert.ok(why.test(error.message), `${name}: ${error.message}`);
  }
  // The same status twice is fine.
  assert.deepEqual(outcome(response("grpc-status: 0\ngrpc-status:0\n")).message, MESSAGE);
});

test("trailers: sizes are bounded (frame, message kept, work done)", () => {
  const big = `grpc-status: 13\ngrpc-message: ${"x".repeat(MAX_TRAILER_BYTES)}\n`;
  const { error } = outcome(response(big));
  assert.equal(error?.transport, "protocol");
  assert.ok(/trailer frame of \d+ bytes \(more than 4096\)/.test(error!.message), error!.message);
  // Within the frame bound, a long message is cut to MAX_STATUS_MESSAGE.
  const long = outcome(response(`grpc-status: 13\ngrpc-message: ${"%41".repeat(1000)}\n`));
  assert.equal(long.error?.code, Code.INTERNAL);
  assert.equal(long.error!.message, `INTERNAL: ${"A".repeat(MAX_STATUS_MESSAGE)}…`);
  // A header grpc-message of a megabyte is decoded only as far as needed.
  assert.equal(decodeGrpcMessage(`%41${"x".repeat(1_000_000)}`).length, 3 * (MAX_STATUS_MESSAGE + 1) - 2);
});

test("trailers: a malformed grpc-status header is a protocol error too", () => {
  const r: HttpResponse = {
    status: 200,
    headers: { "content-type": "application/grpc-web+proto", "grpc-status": "x1" },
    body: new Uint8Array(0),
  };
  const { error } = outcome(r);
  assert.equal(error?.transport, "protocol");
  assert.ok(/grpc-status "x1" in the headers is not a number/.test(error!.message));
});
