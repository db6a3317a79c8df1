// A recording HTTP/1.1 proxy in front of the local cloud: every request body is kept
// byte for byte, so tests can compare what two different clients put on the wire.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedExchange {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
  status: number;
}

export interface CloudRecorder {
  url: string;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

export async function startCloudRecorder(targetUrl: string): Promise<CloudRecorder> {
  const target = new URL(targetUrl);
  const exchanges: RecordedExchange[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: target.host, "content-length": String(body.length) };
      delete headers["transfer-encoding"];
      const upstream = http.request(
        { agent, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (up) => {
          const out: Buffer[] = [];
          up.on("data", (c: Buffer) => out.push(c));
          up.on("end", () => {
            exchanges.push({
              path: req.url ?? "",
              headers: req.headers,
              body: new Uint8Array(body),
              status: up.statusCode ?? 0,
            });
            const responseBody = Buffer.concat(out);
            const h = { ...up.headers, "content-length": String(responseBody.length) };
            delete h["transfer-encoding"];
            res.writeHead(up.statusCode ?? 502, h);
            res.end(responseBody);
          });
        },
      );
      upstream.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
