// What each upload failure means for the data (modules/sync/failure.ts): every gRPC code, HTTP 413,
// transport-level failures and foreign throws, with the exact reason the status and logs show.
import { TransportError } from "../../modules/ports";
import { Code, RpcError } from "../../modules/rpc/status";
import { classifyFailure } from "../../modules/sync/failure";
import { assert, test } from "../harness/index";

test("failure kinds: rejected only for the chunk's content, too-large for size, transient for everything else", () => {
  const rejected: number[] = [Code.INVALID_ARGUMENT, Code.OUT_OF_RANGE];
  const tooLarge: number[] = [Code.RESOURCE_EXHAUSTED];
  for (let code = 1; code <= 16; code++) {
    const f = classifyFailure(new RpcError(code, "why"));
    const kind = rejected.includes(code) ? "rejected" : tooLarge.includes(code) ? "too-large" : "transient";
    assert.deepEqual(f, { kind, code, reason: new RpcError(code, "why").message }, `code ${code}`);
  }
  // HTTP 413 without a grpc-status: too large, whatever code it was mapped to.
  assert.deepEqual(classifyFailure(new RpcError(Code.UNKNOWN, "HTTP 413", undefined, 413)), {
    kind: "too-large",
    code: Code.UNKNOWN,
    reason: "UNKNOWN: HTTP 413",
  });
  assert.equal(classifyFailure(new RpcError(Code.UNKNOWN, "HTTP 500", undefined, 500)).kind, "transient");
});

test("failures below gRPC say nothing about the chunk: transient, with where they happened", () => {
  // An RpcError raised by the transport, even with a code that would otherwise reject the chunk.
  assert.deepEqual(classifyFailure(new RpcError(Code.INVALID_ARGUMENT, "bad frame", "malformed")), {
    kind: "transient",
    code: Code.INVALID_ARGUMENT,
    reason: "INVALID_ARGUMENT: bad frame (malformed)",
  });
  assert.deepEqual(classifyFailure(new RpcError(Code.RESOURCE_EXHAUSTED, "answer too big", "too-large")), {
    kind: "transient",
    code: Code.RESOURCE_EXHAUSTED,
    reason: "RESOURCE_EXHAUSTED: answer too big (too-large)",
  });
  assert.deepEqual(classifyFailure(new TransportError("timeout", "deadline")), {
    kind: "transient",
    code: Code.DEADLINE_EXCEEDED,
    reason: "DEADLINE_EXCEEDED: timeout: deadline",
  });
  assert.deepEqual(classifyFailure(new TransportError("reset", "socket hang up")), {
    kind: "transient",
    code: Code.UNAVAILABLE,
    reason: "UNAVAILABLE: reset: socket hang up",
  });
  assert.deepEqual(classifyFailure(new Error("out of memory")), {
    kind: "transient",
    code: Code.UNKNOWN,
    reason: "UNKNOWN: out of memory",
  });
  assert.deepEqual(classifyFailure("weird"), {
    kind: "transient",
    code: Code.UNKNOWN,
    reason: "UNKNOWN: weird",
  });
});
