/*
 * HttpTransport for Node (tests, the device simulator, the desktop demo):
 * HTTP/1.1 POSTs to one origin over one keep-alive connection, like the
 * device's. TLS verifies against a configurable CA (the local cloud's test CA,
 * or Node's bundled roots when none is given).
 *
 * It counts new connections and TLS handshakes, because a handshake is what
 * costs seconds on an ESP32: sync's benchmark reports handshakes per upload.
 */

import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";
import type * as tls from "node:tls";
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  TransportError,
  type TransportErrorKind,
} from "../modules/ports";

export interface NodeHttpTransportOptions {
  /** PEM CA certificate(s) to trust for https origins (replaces the default roots). */
  ca?: string | string[];
  /** Keep-alive idle time before the client closes the connection; default 60 s. */
  keepAliveMs?: number;
}

export interface TransportStats {
  connections: number;
  tlsHandshakes: number;
  requests: number;
  failures: Partial<Record<TransportErrorKind, number>>;
}

const TLS_ERROR_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

function classify(error: NodeJS.ErrnoException): TransportErrorKind {
  const code = error.code ?? "";
  if (code === "ECONNREFUSED") return "refused";
  if (
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "ECONNABORTED" ||
    error.message === "socket hang up"
  ) {
    return "reset";
  }
  if (code === "ETIMEDOUT") return "timeout";
  if (
    TLS_ERROR_CODES.has(code) ||
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    code.includes("CERT")
  ) {
    return "tls";
  }
  return "other";
}

export class NodeHttpTransport implements HttpTransport {
  readonly origin: URL;
  readonly stats: TransportStats = { connections: 0, tlsHandshakes: 0, requests: 0, failures: {} };
  private readonly agent: http.Agent;
  private readonly secure: boolean;
  private readonly seen = new WeakSet<net.Socket>();

  /** `baseUrl` like "https://127.0.0.1:8443" (a path prefix is kept). */
  constructor(baseUrl: string, options: NodeHttpTransportOptions = {}) {
    this.origin = new URL(baseUrl);
    this.secure = this.origin.protocol === "https:";
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: 1,
      maxFreeSockets: 1,
      timeout: options.keepAliveMs ?? 60_000,
      scheduling: "lifo" as const,
    };
    this.agent = this.secure
      ? new https.Agent({ ...agentOptions, ...(options.ca ? { ca: options.ca } : {}) })
      : new http.Agent(agentOptions);
  }

  private fail(kind: TransportErrorKind, message: string): TransportError {
    this.stats.failures[kind] = (this.stats.failures[kind] ?? 0) + 1;
    return new TransportError(kind, message);
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    this.stats.requests++;
    const base = this.origin.pathname.replace(/\/$/, "");
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const settle = (error: TransportError | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = (this.secure ? https : http).request({
        agent: this.agent,
        method: "POST",
        protocol: this.origin.protocol,
        hostname: this.origin.hostname,
        port: this.origin.port,
        path: base + request.path,
        headers: { ...request.headers, "content-length": String(request.body.length) },
      });
      const timer = setTimeout(() => {
        settle(this.fail("timeout", `no complete response within ${request.timeoutMs} ms`));
        req.destroy();
      }, request.timeoutMs);
      req.on("socket", (socket: net.Socket) => {
        if (this.seen.has(socket)) return;
        this.seen.add(socket);
        this.stats.connections++;
        if (this.secure) (socket as tls.TLSSocket).once("secureConnect", () => this.stats.tlsHandshakes++);
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        const kind = classify(error);
        settle(this.fail(kind, `${kind}: ${error.code ?? ""} ${error.message}`.trim()));
      });
      req.on("response", (res) => {
        const declared = Number(res.headers["content-length"] ?? -1);
        if (declared > request.maxResponseBytes) {
          settle(this.fail("too-large", `response of ${declared} bytes exceeds ${request.maxResponseBytes}`));
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on("data", (chunk: Buffer) => {
          total += chunk.length;
          if (total > request.maxResponseBytes) {
            settle(this.fail("too-large", `response exceeds ${request.maxResponseBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", (error: NodeJS.ErrnoException) => {
          settle(this.fail("reset", `response interrupted: ${error.message}`));
        });
        res.on("aborted", () => settle(this.fail("reset", "response interrupted")));
        res.on("end", () => {
          if (!res.complete) {
            settle(this.fail("reset", "connection closed before the response was complete"));
            return;
          }
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
          }
          const body = Buffer.concat(chunks, total);
          settle(undefined, {
            status: res.statusCode ?? 0,
            headers,
            body: new Uint8Array(body.buffer, body.byteOffset, body.length),
          });
        });
      });
      req.end(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.length));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
