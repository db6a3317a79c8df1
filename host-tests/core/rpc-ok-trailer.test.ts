// The OK trailer is recognised on its bytes (no strings per upload); every other trailer still takes the
// general parser, so lookalikes of "grpc-status: 0" keep their real meaning.
import { readUnaryResponse } from "../../modules/rpc/grpc-web";
import { RpcError } from "../../modules/rpc/status";
import { assert, test } from "../harness/index";

function response(trailer: string): Uint8Array {
  const t = new TextEncoder().encode(trailer);
  const out = new Uint8Array(5 + 3 + 5 + t.length);
  out[4] = 3;
  out.set([0x0a, 0x01, 0x66], 5);
  out[8] = 0x80;
  out[12] = t.length;
  out.set(t, 13);
  return out;
}

function outcome(trailer: string): string {
  try {
    const message = readUnaryResponse({
      status: 200,
      headers: { "content-type": "application/grpc-web+proto" },
      body: response(trailer),
    });
    return `ok ${message.length}`;
  } catch (error) {
    return error instanceof RpcError ? `code ${error.code} ${error.message}` : `throw ${String(error)}`;
  }
}

test("gRPC-web trailer: OK forms are accepted, lookalikes keep their own status", () => {
  for (const ok of [
    "grpc-status: 0\r\n",
    "grpc-status:0\r\n",
    "Grpc-Status: 0",
    "grpc-status: 0\r\ngrpc-message:\r\n",
    "grpc-message: \r\ngrpc-status:0  \r\n",
    "grpc-status: 0\r\ngrpc-message: fine\r\n",
    "grpc-status: 0\r\nx-extra: 1\r\n",
  ])
    assert.equal(outcome(ok), "ok 3", JSON.stringify(ok));
  assert.equal(outcome("grpc-status: 01\r\n").startsWith("code 1 "), true);
  // Malformed or contradictory status lines are protocol errors (INTERNAL), never read as OK.
  assert.equal(outcome("grpc-status: 0 1\r\n").startsWith("code 13 "), true);
  const unavailable = outcome("grpc-status: 14\r\ngrpc-message: later\r\n");
  assert.ok(unavailable.startsWith("code 14 ") && unavailable.endsWith("later"), unavailable);
  assert.equal(outcome("grpc-status: 0\r\ngrpc-status: 5\r\n").startsWith("code 13 "), true);
  assert.equal(outcome("grpc-statusx: 0\r\n").startsWith("code 13"), true);
  assert.equal(outcome("grpc-message: x\r\n").startsWith("code 13"), true);
});
