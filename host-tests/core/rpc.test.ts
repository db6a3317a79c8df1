// gRPC-web framing and the cloud client's auth rules, against a scripted in-memory
// transport (the loopback tests against the real local cloud are in host-tests/node/rpc.test.ts).
// Runs in the Node lane and inside XS.
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  type Logger,
  TransportError,
} from "../../modules/ports";
import { ProtoReader } from "../../modules/proto/reader";
import { ProtoWriter } from "../../modules/proto/writer";
import { GrpcWebClient } from "../../modules/rpc/client";
import {
  AUTHENTICATE_PATH,
  CloudClient,
  CONFIG_PATH,
  DATA_CAPTURE_UPLOAD_PATH,
} from "../../modules/rpc/cloud-client";
import { codeForHttpStatus, decodeGrpcMessage, readUnaryResponse } from "../../modules/rpc/grpc-web";
import { Code, RpcError } from "../../modules/rpc/status";
import { assert, test } from "../harness/index";
import { enc, frame } from "../support/grpc-web-frames";

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const GRPC_WEB = { "content-type": "application/grpc-web+proto" };

function ok(message: Uint8Array): HttpResponse {
  return {
    status: 200,
    headers: GRPC_WEB,
    body: concat(frame(0, message), frame(0x80, enc("grpc-status: 0\r\n"))),
  };
}

function grpcError(code: number, message: string): HttpResponse {
  return {
    status: 200,
    headers: { ...GRPC_WEB, "grpc-status": String(code), "grpc-message": message },
    body: new Uint8Array(0),
  };
}

function rpcError(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw new Error(`expected RpcError, got ${(error as Error)?.message}`);
  }
  throw new Error("expected a throw");
}

async function rpcRejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw new Error(`expected RpcError, got ${(error as Error)?.message}`);
  }
  throw new Error("expected a rejection");
}

test("unary response: data frame + trailer frame yields the message", () => {
  const msg = readUnaryResponse(ok(new Uint8Array([0x0a, 0x01, 0x78])));
  assert.deepEqual(msg, new Uint8Array([0x0a, 0x01, 0x78]));
  // An empty message is a zero-length frame, still a response.
  assert.deepEqual(readUnaryResponse(ok(new Uint8Array(0))), new Uint8Array(0));
});

test("unary response: status in the trailer frame, message percent-decoded", () => {
  const body = concat(frame(0x80, enc("Grpc-Status: 8\r\ngrpc-message: quota%20exceeded%20%E2%9C%93\r\n")));
  const e = rpcError(() => readUnaryResponse({ status: 200, headers: GRPC_WEB, body }));
  assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
  assert.equal(e.message, "RESOURCE_EXHAUSTED: quota exceeded ✓");
  assert.equal(decodeGrpcMessage("a%2"), "a%2");
});

test("unary response: trailers-only (status in headers)", () => {
  const e = rpcError(() => readUnaryResponse(grpcError(Code.UNAUTHENTICATED, "token expired")));
  assert.equal(e.code, Code.UNAUTHENTICATED);
  assert.equal(e.transport, undefined);
});

test("unary response: HTTP statuses without grpc-status map as gRPC specifies", () => {
  const cases: [number, number][] = [
    [400, Code.INTERNAL],
    [401, Code.UNAUTHENTICATED],
    [403, Code.PERMISSION_DENIED],
    [404, Code.UNIMPLEMENTED],
    [429, Code.UNAVAILABLE],
    [500, Code.UNKNOWN],
    [502, Code.UNAVAILABLE],
    [503, Code.UNAVAILABLE],
    [504, Code.UNAVAILABLE],
  ];
  for (const [status, code] of cases) {
    assert.equal(codeForHttpStatus(status), code);
    const e = rpcError(() =>
      readUnaryResponse({ status, headers: { "content-type": "text/html" }, body: enc("<h1>x</h1>") }),
    );
    assert.equal(e.code, code, `HTTP ${status}`);
  }
  // A grpc-status header wins over the HTTP status.
  const e = rpcError(() =>
    readUnaryResponse({
      status: 503,
      headers: { "grpc-status": "8", "grpc-message": "slow down" },
      body: new Uint8Array(0),
    }),
  );
  assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
});

test("unary response: malformed bodies are INTERNAL protocol errors", () => {
  const cases: [string, HttpResponse][] = [
    ["truncated frame header", { status: 200, headers: GRPC_WEB, body: new Uint8Array([0, 0, 0]) }],
    [
      "frame of 100 bytes",
      { status: 200, headers: GRPC_WEB, body: concat(frame(0, new Uint8Array(100)).subarray(0, 20)) },
    ],
    [
      "frame of 2147483647 bytes",
      { status: 200, headers: GRPC_WEB, body: new Uint8Array([0, 0x7f, 0xff, 0xff, 0xff]) },
    ],
    ["compressed frame", { status: 200, headers: GRPC_WEB, body: frame(1, new Uint8Array(3)) }],
    [
      "more than one message",
      {
        status: 200,
        headers: GRPC_WEB,
        body: concat(
          frame(0, new Uint8Array(1)),
          frame(0, new Uint8Array(1)),
          frame(0x80, enc("grpc-status: 0")),
        ),
      },
    ],
    [
      "bytes after the trailer",
      { status: 200, headers: GRPC_WEB, body: concat(frame(0x80, enc("grpc-status: 0")), new Uint8Array(2)) },
    ],
    ["no grpc-status", { status: 200, headers: GRPC_WEB, body: frame(0, new Uint8Array(1)) }],
    ["content-type", { status: 200, headers: { "content-type": "text/html" }, body: enc("<html>") }],
    [
      "OK status without a response message",
      { status: 200, headers: GRPC_WEB, body: frame(0x80, enc("grpc-status: 0")) },
    ],
  ];
  for (const [expected, response] of cases) {
    const e = rpcError(() => readUnaryResponse(response));
    assert.equal(e.code, Code.INTERNAL, expected);
    assert.equal(e.transport, "protocol", expected);
    assert.ok(e.message.includes(expected), `${expected}: ${e.message}`);
  }
});

test("unary response: a huge grpc-message is cut, not kept", () => {
  const e = rpcError(() => readUnaryResponse(grpcError(Code.INTERNAL, "x".repeat(100000))));
  assert.ok(e.message.length < 600, `message of ${e.message.length}`);
});

/** A transport that answers from a script and records what it was asked. */
class ScriptedTransport implements HttpTransport {
  readonly requests: HttpRequest[] = [];
  readonly bodies: Uint8Array[] = [];
  constructor(private readonly answer: (request: HttpRequest, index: number) => HttpResponse | Error) {}
  async request(request: HttpRequest): Promise<HttpResponse> {
    this.requests.push(request);
    this.bodies.push(new Uint8Array(request.body));
    const a = this.answer(request, this.requests.length - 1);
    if (a instanceof Error) throw a;
    return a;
  }
  close(): void {}
}

test("client: frames the request, sets gRPC-web headers, deadline and size limit", async () => {
  const t = new ScriptedTransport(() => ok(new Uint8Array([1, 2])));
  const client = new GrpcWebClient({ transport: t, timeoutMs: 1234, maxResponseBytes: 999 });
  const out = await client.unary("/svc/M", new Uint8Array([7, 8, 9]), {
    headers: { authorization: "Bearer x" },
  });
  assert.deepEqual(out, new Uint8Array([1, 2]));
  const r = t.requests[0]!;
  assert.deepEqual(t.bodies[0], new Uint8Array([0, 0, 0, 0, 3, 7, 8, 9]));
  assert.equal(r.path, "/svc/M");
  assert.equal(r.headers["content-type"], "application/grpc-web+proto");
  assert.equal(r.headers["x-grpc-web"], "1");
  assert.equal(r.headers["grpc-timeout"], "1234m");
  assert.equal(r.headers.authorization, "Bearer x");
  assert.equal(r.timeoutMs, 1234);
  assert.equal(r.maxResponseBytes, 999);
  // A second, longer request reuses (and grows) the frame buffer correctly.
  await client.unary("/svc/M", new Uint8Array(300).fill(5));
  assert.equal(t.bodies[1]!.length, 305);
  assert.deepEqual(Array.from(t.bodies[1]!.subarray(0, 5)), [0, 0, 0, 1, 44]);
});

test("client: transport failures become RpcErrors that keep their kind", async () => {
  const kinds: [TransportError["kind"], number][] = [
    ["refused", Code.UNAVAILABLE],
    ["reset", Code.UNAVAILABLE],
    ["tls", Code.UNAVAILABLE],
    ["timeout", Code.DEADLINE_EXCEEDED],
    ["too-large", Code.RESOURCE_EXHAUSTED],
  ];
  for (const [kind, code] of kinds) {
    const client = new GrpcWebClient({
      transport: new ScriptedTransport(() => new TransportError(kind, kind)),
    });
    const e = await rpcRejection(client.unary("/svc/M", new Uint8Array(0)));
    assert.equal(e.code, code, kind);
    assert.equal(e.transport, kind);
  }
});

function authResponse(token: string): HttpResponse {
  const w = new ProtoWriter();
  w.string(1, token);
  return ok(new Uint8Array(w.finish()));
}

function readAuthRequest(body: Uint8Array): { entity: string; type: string; payload: string } {
  const r = new ProtoReader(body.subarray(5));
  const out = { entity: "", type: "", payload: "" };
  while (r.more()) {
    const f = r.tag();
    if (f === 1) out.entity = r.string();
    else if (f === 2) {
      const outer = r.enter();
      while (r.more()) {
        const g = r.tag();
        if (g === 1) out.type = r.string();
        else out.payload = r.string();
      }
      r.leave(outer);
    }
  }
  return out;
}

class RecordingLogger implements Logger {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(m);
  }
  warn(m: string) {
    this.lines.push(m);
  }
  error(m: string) {
    this.lines.push(m);
  }
}

const SECRET = "SECRET-abc123";

test("cloud client: authenticates as the part with robot-secret, caches the token, sends it as Bearer", async () => {
  let tokens = 0;
  const t = new ScriptedTransport((req) => {
    if (req.path === AUTHENTICATE_PATH) return authResponse(`tok-${++tokens}`);
    return ok(new Uint8Array([0x0a, 0x02, 0x66, 0x31])); // file_id "f1"
  });
  const log = new RecordingLogger();
  const client = new CloudClient({ transport: t, partId: "part-9", secret: SECRET, logger: log });
  assert.equal(await client.dataCaptureUpload(new Uint8Array([1])), "f1");
  await client.send(new Uint8Array([2]));
  assert.deepEqual(
    t.requests.map((r) => r.path),
    [AUTHENTICATE_PATH, DATA_CAPTURE_UPLOAD_PATH, DATA_CAPTURE_UPLOAD_PATH],
  );
  assert.deepEqual(readAuthRequest(t.bodies[0]!), {
    entity: "part-9",
    type: "robot-secret",
    payload: SECRET,
  });
  assert.equal(t.requests[0]!.headers.authorization, undefined);
  assert.equal(t.requests[1]!.headers.authorization, "Bearer tok-1");
  assert.equal(t.requests[2]!.headers.authorization, "Bearer tok-1");
  assert.equal(client.counters.authentications, 1);
  for (const line of log.lines) assert.ok(!line.includes(SECRET) && !line.includes("tok-1"), line);
});

test("cloud client: UNAUTHENTICATED → re-authenticate once and retry; twice → the caller sees it", async () => {
  let tokens = 0;
  let rejectNext = 1;
  const t = new ScriptedTransport((req) => {
    if (req.path === AUTHENTICATE_PATH) return authResponse(`tok-${++tokens}`);
    if (rejectNext > 0) {
      rejectNext--;
      return grpcError(Code.UNAUTHENTICATED, "token expired");
    }
    return ok(new Uint8Array(0));
  });
  const log = new RecordingLogger();
  const client = new CloudClient({ transport: t, partId: "p", secret: SECRET, logger: log });
  await client.dataCaptureUpload(new Uint8Array([1]));
  assert.equal(client.counters.reauthentications, 1);
  assert.equal(t.requests.at(-1)!.headers.authorization, "Bearer tok-2");

  rejectNext = 2;
  const e = await rpcRejection(client.dataCaptureUpload(new Uint8Array([1])));
  assert.equal(e.code, Code.UNAUTHENTICATED);
  assert.equal(client.counters.reauthentications, 2);
  assert.equal(tokens, 3, "one re-authentication per call, not a loop");
  for (const line of log.lines) assert.ok(!line.includes(SECRET) && !/tok-\d/.test(line), line);
});

test("cloud client: wrong secret → UNAUTHENTICATED without calling the RPC", async () => {
  const t = new ScriptedTransport(() => grpcError(Code.UNAUTHENTICATED, "invalid credentials"));
  const log = new RecordingLogger();
  const client = new CloudClient({ transport: t, partId: "p", secret: SECRET, logger: log });
  const e = await rpcRejection(client.config());
  assert.equal(e.code, Code.UNAUTHENTICATED);
  assert.deepEqual(
    t.requests.map((r) => r.path),
    [AUTHENTICATE_PATH],
  );
  assert.ok(!e.message.includes(SECRET));
  for (const line of log.lines) assert.ok(!line.includes(SECRET), line);
});

test("cloud client: config uses its own size limit and a malformed config is INTERNAL", async () => {
  const t = new ScriptedTransport((req) => {
    if (req.path === AUTHENTICATE_PATH) return authResponse("t");
    if (req.path === CONFIG_PATH) return ok(new Uint8Array([0x0a, 0x05, 0x7a, 0xff]));
    return ok(new Uint8Array(0));
  });
  const client = new CloudClient({ transport: t, partId: "p", secret: "s", configMaxResponseBytes: 5000 });
  const e = await rpcRejection(client.config());
  assert.equal(e.code, Code.INTERNAL);
  assert.ok(e.message.includes("malformed ConfigResponse"), e.message);
  assert.equal(t.requests[1]!.maxResponseBytes, 5000);
  assert.equal(t.requests[0]!.maxResponseBytes, 4096);
});

test("unary response: random bodies give a message or a clean RpcError, never anything else", () => {
  let seed = 12345;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const valid = concat(frame(0, new Uint8Array([0x0a, 1, 0x41])), frame(0x80, enc("grpc-status: 0\r\n")));
  for (let i = 0; i < 3000; i++) {
    let body: Uint8Array;
    if (i % 2 === 0) {
      body = new Uint8Array(next() % 40);
      for (let j = 0; j < body.length; j++) body[j] = next() & 0xff;
    } else {
      body = new Uint8Array(valid);
      body[next() % body.length] = next() & 0xff;
      body = body.subarray(0, next() % (body.length + 1));
    }
    try {
      readUnaryResponse({ status: 200, headers: GRPC_WEB, body });
    } catch (error) {
      assert.ok(error instanceof RpcError, `iteration ${i}: ${(error as Error)?.message}`);
    }
  }
});
