// The keep-alive transport and TLS failures: nothing is written before the
// stream reports connected (the TLS handshake, certificate check included,
// completed), a refused certificate fails the request with kind "tls" and its
// reason, is counted, and the next request opens a new connection (the sync
// service's backoff decides when).
import { type ByteStreamHandler, Http1Transport } from "../../modules/app/http1-transport";
import { TransportError } from "../../modules/ports";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";

const request = {
  path: "/proto.rpc.v1.AuthService/Authenticate",
  headers: {},
  body: new Uint8Array([1, 2, 3]),
  timeoutMs: 30_000,
  maxResponseBytes: 1000,
};

test("transport: a refused certificate fails the request as tls, is counted, and nothing was written", async () => {
  const clock = new FakeClock(0);
  const handlers: ByteStreamHandler[] = [];
  let written = 0;
  const transport = new Http1Transport({
    host: "app.viam.com",
    timers: clock,
    open: (handler) => {
      handlers.push(handler);
      return {
        write: (bytes) => {
          written += bytes.length;
        },
        close: () => {},
      };
    },
  });
  const first = transport.request(request);
  assert.equal(handlers.length, 1);
  handlers[0]!.closed(
    "tls",
    "certificate refused for app.viam.com (expired): the server's certificate expired",
  );
  let error: unknown;
  try {
    await first;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof TransportError);
  assert.equal((error as TransportError).kind, "tls");
  assert.ok((error as TransportError).message.includes("(expired)"));
  assert.equal(written, 0, "no byte before the handshake completed");
  assert.equal(transport.tlsFailures, 1);
  assert.ok(transport.lastTlsFailure.includes("app.viam.com"));

  // The next try opens a new connection; once connected, the request goes out.
  const second = transport.request(request);
  assert.equal(handlers.length, 2);
  assert.equal(written, 0);
  handlers[1]!.connected();
  assert.ok(written > request.body.length, "head and body written after connected");
  handlers[1]!.data(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
  assert.equal((await second).status, 200);
  assert.equal(transport.tlsFailures, 1);
  transport.close();
});
