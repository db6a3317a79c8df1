/*
 * TLS probe for the simulator lane (host-tests/sim/tls.ts): connects to each
 * test server in turn through the device's own path — Http1Transport over
 * openSocketStream over SecureSocket, with the secure options the device
 * builds — and sends an Authenticate-shaped request carrying a marker secret.
 * It traces one line per server, `tls-probe: <n> accepted <status>` or
 * `tls-probe: <n> refused <kind>: <reason>`, then `tls-probe: done`.
 *
 * Built from manifest.json (capsync's verifier installed as the SDK's
 * ssl/cert and ssl/handshake) or stock/manifest.json (the SDK's own TLS).
 */
import config from "mc/config";
import { Http1Transport } from "modules/app/http1-transport";
import { moddableTimers } from "modules/platform/moddable/moddable-timers";
import { openSocketStream } from "modules/platform/moddable/socket-stream";
import { secureOptions } from "modules/platform/moddable/tls/secure-options";
import SecureSocket from "securesocket";
import Timer from "timer";

function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

const root = fromHex(String(config.tlsRoot));
const plan = String(config.tlsPlan)
  .split(",")
  .map((entry) => {
    const [label, port, name] = entry.split(":");
    return { label, port: Number(port), name };
  });

let index = 0;
function next() {
  if (index >= plan.length) {
    trace("tls-probe: done\n");
    return;
  }
  const target = plan[index++];
  const transport = new Http1Transport({
    host: target.name,
    timers: moddableTimers,
    open: (handler) =>
      openSocketStream(
        {
          host: "127.0.0.1",
          port: target.port,
          serverName: target.name,
          secure: { ...secureOptions([root.buffer]), certificate: root.buffer },
          SecureSocket,
        },
        handler,
      ),
  });
  const body = new Uint8Array(ArrayBuffer.fromString(`robot-secret SECRET-${target.label}`));
  transport
    .request({
      path: "/proto.rpc.v1.AuthService/Authenticate",
      headers: { "content-type": "application/grpc-web+proto" },
      body,
      timeoutMs: 60000,
      maxResponseBytes: 1024,
    })
    .then(
      (response) => trace(`tls-probe: ${target.label} accepted ${response.status}\n`),
      (error) => trace(`tls-probe: ${target.label} refused ${error.kind}: ${error.message}\n`),
    )
    .then(() => {
      transport.close();
      Timer.set(next, 10);
    });
}
Timer.set(next, 10);
