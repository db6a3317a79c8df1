/*
 * The local cloud: a real server speaking Viam's cloud API subset, for tests
 * and the desktop demo. Connect (connect-node) serves gRPC (HTTP/2), gRPC-web
 * and Connect on one port:
 *
 *   /proto.rpc.v1.AuthService/Authenticate               part id + robot-secret → access token
 *   /viam.app.v1.RobotService/Config                     the part's machine config (+ revision)
 *   /viam.app.datasync.v1.DataSyncService/DataCaptureUpload   stores every SensorData in SQLite
 *
 * Plain HTTP paths: GET /cloud/readings, /cloud/counts, /cloud/stats (JSON);
 * anything else goes to `extraRoutes` (the demo's web page), else 404.
 * Faults are armed per test through `cloud.faults` (see faults.ts).
 */

import { randomBytes, X509Certificate } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { toBinary } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createContextKey,
  createContextValues,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AuthService } from "../../protos/gen/proto/rpc/v1/auth_pb";
import { DataSyncService, SensorDataSchema } from "../../protos/gen/viam/app/datasync/v1/data_sync_pb";
import { RobotService } from "../../protos/gen/viam/app/v1/robot_pb";
import { type Fault, Faults } from "./faults";
import { type MachineConfigJson, robotConfigFromJson } from "./machine-config";
import { type Reading, type ReadingCount, type ReadingFilter, ReadingStore } from "./store";
import { type CloudTls, makeTestCertificates } from "./tls";

export interface PartCredentials {
  id: string;
  secret: string;
  /** This part's machine config; defaults to `CloudOptions.machineConfig`. */
  machineConfig?: MachineConfigJson;
  /** The config's revision number to start from (default 1): a restarted cloud continues its history. */
  revision?: number;
}

export type ExtraRoutes = (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;

export interface CloudOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** SQLite file; default in memory (gone on close). */
  dbPath?: string;
  parts: PartCredentials[];
  machineConfig?: MachineConfigJson;
  /** true: generate a CA + server certificate for 127.0.0.1/localhost; or pass your own PEMs. */
  tls?: boolean | CloudTls;
  /** Access token lifetime; default one hour. */
  tokenTtlMs?: number;
  /** The clock tokens expire by (ms); default Date.now. Tests pass a fake one. */
  tokenClock?: () => number;
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond); default 8 MiB. */
  readMaxBytes?: number;
  extraRoutes?: ExtraRoutes;
  /** Request log (one line per RPC); secrets and tokens are never included. */
  log?: (line: string) => void;
}

export interface CloudStats {
  /** TCP connections accepted. */
  connections: number;
  /** TLS handshakes completed. */
  tlsHandshakes: number;
  /** RPC requests per method name. */
  requests: Record<string, number>;
  authentications: number;
  authFailures: number;
  /** Calls rejected for a missing, unknown or expired token. */
  unauthenticated: number;
  uploads: number;
  readingsStored: number;
  /** Bytes of `oversized` fault bodies actually handed to the socket before the client hung up. */
  oversizedBytesWritten: number;
}

export interface Cloud {
  /** Base URL, e.g. "http://127.0.0.1:40123" (https when TLS is on). */
  readonly url: string;
  readonly port: number;
  /** PEM CA certificate the server certificate chains to (TLS only). */
  readonly ca: string | undefined;
  /** The same CA certificate as DER bytes (what Moddable's SecureSocket takes). */
  readonly caDer: Uint8Array | undefined;
  readonly faults: Faults;
  readonly stats: CloudStats;
  readonly store: ReadingStore;
  readings(filter?: ReadingFilter): Reading[];
  count(filter?: ReadingFilter): number;
  counts(filter?: ReadingFilter): ReadingCount[];
  /** Replace a part's machine config (all parts when `partId` is omitted); returns the new revision. */
  setConfig(config: MachineConfigJson, partId?: string): string;
  config(partId: string): { config: MachineConfigJson; revision: string };
  /** Make every token issued so far invalid: the next call with one gets UNAUTHENTICATED. */
  expireTokens(): void;
  /** Stop listening and drop open connections: clients see "connection refused" until `accept()`. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

const RPC_PATHS: Record<string, string> = {
  "/proto.rpc.v1.AuthService/Authenticate": "Authenticate",
  "/viam.app.v1.RobotService/Config": "Config",
  "/viam.app.datasync.v1.DataSyncService/DataCaptureUpload": "DataCaptureUpload",
};

const kFault = createContextKey<Fault | undefined>(undefined);
const kProtocol = createContextKey<string>("unknown");

interface TokenInfo {
  partId: string;
  expiresAt: number;
}

interface PartState {
  secret: string;
  config: MachineConfigJson;
  revision: number;
}

function protocolOf(contentType: string | undefined): string {
  const ct = contentType ?? "";
  if (ct.startsWith("application/grpc-web")) return "grpc-web";
  if (ct.startsWith("application/grpc")) return "grpc";
  return "connect";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function frame(flags: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flags;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

export async function startCloud(options: CloudOptions): Promise<Cloud> {
  const host = options.host ?? "127.0.0.1";
  const tokenTtlMs = options.tokenTtlMs ?? 3600_000;
  const tokenClock = options.tokenClock ?? Date.now;
  const log = options.log ?? (() => {});
  const store = new ReadingStore(options.dbPath);
  const faults = new Faults();
  const stats: CloudStats = {
    connections: 0,
    tlsHandshakes: 0,
    requests: {},
    authentications: 0,
    authFailures: 0,
    unauthenticated: 0,
    uploads: 0,
    readingsStored: 0,
    oversizedBytesWritten: 0,
  };
  const parts = new Map<string, PartState>();
  for (const p of options.parts) {
    const config = p.machineConfig ?? options.machineConfig ?? {};
    robotConfigFromJson(config, p.id, "1"); // validate up front: a bad file fails at start, not at first fetch
    parts.set(p.id, { secret: p.secret, config, revision: p.revision ?? 1 });
  }
  const tokens = new Map<string, TokenInfo>();

  function authorize(ctx: HandlerContext): string {
    const header = ctx.requestHeader.get("authorization") ?? "";
    const m = /^Bearer (.+)$/.exec(header);
    const info = m ? tokens.get(m[1]!) : undefined;
    if (!info) {
      stats.unauthenticated++;
      throw new ConnectError(m ? "unknown access token" : "missing authorization", Code.Unauthenticated);
    }
    if (tokenClock() >= info.expiresAt) {
      stats.unauthenticated++;
      faults.count("expired-token");
      throw new ConnectError("access token expired", Code.Unauthenticated);
    }
    return info.partId;
  }

  function injected(ctx: HandlerContext): void {
    const fault = ctx.values.get(kFault);
    if (fault?.kind === "status") {
      throw new ConnectError(fault.message ?? "injected fault", fault.code as Code);
    }
  }

  const routes = (router: ConnectRouter) => {
    router.service(AuthService, {
      authenticate(req, ctx) {
        injected(ctx);
        const part = parts.get(req.entity);
        if (!part || req.credentials?.type !== "robot-secret" || req.credentials.payload !== part.secret) {
          stats.authFailures++;
          log(`Authenticate entity=${req.entity} → UNAUTHENTICATED`);
          throw new ConnectError("invalid credentials", Code.Unauthenticated);
        }
        const token = randomBytes(24).toString("base64url");
        tokens.set(token, { partId: req.entity, expiresAt: tokenClock() + tokenTtlMs });
        stats.authentications++;
        log(`Authenticate entity=${req.entity} → ok`);
        return { accessToken: token };
      },
    });
    router.service(RobotService, {
      config(req, ctx) {
        injected(ctx);
        const partId = authorize(ctx);
        if (req.id !== partId)
          throw new ConnectError(`token is not for part ${req.id}`, Code.PermissionDenied);
        const part = parts.get(partId);
        if (!part) throw new ConnectError(`no part ${partId}`, Code.NotFound);
        log(`Config part=${partId} revision=${part.revision}`);
        return { config: robotConfigFromJson(part.config, partId, String(part.revision)) };
      },
    });
    router.service(DataSyncService, {
      dataCaptureUpload(req, ctx) {
        injected(ctx);
        const partId = authorize(ctx);
        const meta = req.metadata;
        if (!meta) throw new ConnectError("metadata is required", Code.InvalidArgument);
        const own = faults.take("DataCaptureUpload", meta.componentName);
        if (own?.kind === "status") {
          log(`DataCaptureUpload ${meta.componentName}: injecting status ${own.code}`);
          throw new ConnectError(own.message ?? "injected fault", own.code as Code);
        }
        if (meta.partId !== partId) {
          throw new ConnectError(`token is not for part ${meta.partId}`, Code.PermissionDenied);
        }
        if (req.sensorContents.length === 0) {
          throw new ConnectError("sensor_contents is empty", Code.InvalidArgument);
        }
        const fileId = randomBytes(12).toString("hex");
        let requestBytes = 0;
        const readings = req.sensorContents.map((sd) => {
          const bytes = toBinary(SensorDataSchema, sd);
          requestBytes += bytes.length;
          const md = sd.metadata;
          const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
            t === undefined ? null : Number(t.seconds) * 1000 + t.nanos / 1e6;
          return {
            timeRequestedMs: ms(md?.timeRequested),
            timeReceivedMs: ms(md?.timeReceived),
            data: sd.data.case === "struct" ? sd.data.value : null,
            binary: sd.data.case === "binary" ? sd.data.value : null,
            sensorData: bytes,
          };
        });
        store.store({
          fileId,
          partId,
          componentType: meta.componentType,
          componentName: meta.componentName,
          methodName: meta.methodName,
          dataType: meta.type,
          tags: meta.tags,
          requestBytes,
          protocol: ctx.values.get(kProtocol),
          readings,
        });
        stats.uploads++;
        stats.readingsStored += readings.length;
        log(
          `DataCaptureUpload part=${partId} ${meta.componentName}/${meta.methodName} readings=${readings.length}`,
        );
        return { fileId };
      },
    });
  };

  const rpcHandler = connectNodeAdapter({
    routes,
    readMaxBytes: options.readMaxBytes ?? 8 * 1024 * 1024,
    contextValues: (req) =>
      createContextValues()
        .set(kFault, (req as unknown as { capsyncFault?: Fault }).capsyncFault)
        .set(kProtocol, protocolOf(req.headers["content-type"])),
  });

  function json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body, (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v,
    );
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  }

  function queryFilter(url: URL): ReadingFilter {
    const f: ReadingFilter = {};
    const part = url.searchParams.get("part");
    const component = url.searchParams.get("component");
    const method = url.searchParams.get("method");
    const after = url.searchParams.get("after");
    const limit = url.searchParams.get("limit");
    if (part) f.partId = part;
    if (component) f.componentName = component;
    if (method) f.methodName = method;
    if (after) f.afterId = Number(after);
    if (limit) f.limit = Number(limit);
    return f;
  }

  async function plainRoute(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://cloud");
    if (req.method === "GET" && url.pathname === "/cloud/readings") {
      const f = queryFilter(url);
      if (f.limit === undefined) f.limit = 1000;
      json(res, 200, { readings: store.readings(f).map(({ sensorData: _s, ...r }) => r) });
      return;
    }
    if (req.method === "GET" && url.pathname === "/cloud/counts") {
      const f = queryFilter(url);
      json(res, 200, { total: store.count(f), counts: store.counts(f) });
      return;
    }
    if (req.method === "GET" && url.pathname === "/cloud/stats") {
      json(res, 200, { stats, faults: faults.counts, uploads: store.uploadCount() });
      return;
    }
    if (options.extraRoutes && (await options.extraRoutes(req, res))) return;
    json(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  }

  function reset(req: http.IncomingMessage | http2.Http2ServerRequest): void {
    if ("stream" in req && req.stream) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else req.socket.destroy();
  }

  async function writeMalformed(res: http.ServerResponse, variant: string): Promise<void> {
    const headers = { "content-type": "application/grpc-web+proto" };
    const okTrailer = frame(0x80, Buffer.from("grpc-status: 0\r\ngrpc-message: \r\n"));
    switch (variant) {
      case "garbage":
        res.writeHead(200, headers);
        res.end(Buffer.from("<html>this is not gRPC-web</html>"));
        return;
      case "truncated": {
        res.writeHead(200, headers);
        const f = Buffer.alloc(15);
        f.writeUInt32BE(100, 1);
        res.end(f);
        return;
      }
      case "huge-length": {
        res.writeHead(200, headers);
        const f = Buffer.alloc(5);
        f.writeUInt32BE(0x7fffffff, 1);
        res.end(f);
        return;
      }
      case "bad-proto":
        res.writeHead(200, headers);
        res.end(
          Buffer.concat([frame(0, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])), okTrailer]),
        );
        return;
      default:
        res.writeHead(200, headers);
        res.end(frame(0, Buffer.from([0x0a, 0x01, 0x78])));
    }
  }

  async function writeOversized(res: http.ServerResponse, bytes: number): Promise<void> {
    res.writeHead(200, { "content-type": "application/grpc-web+proto" });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(Math.min(bytes, 0xffffffff), 1);
    res.write(header);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let left = bytes;
    while (left > 0 && !res.destroyed && !res.socket?.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      stats.oversizedBytesWritten += piece.length;
      if (!res.write(piece)) {
        // Wait for drain or hang-up, and remove whichever listener did not fire:
        // one left behind per chunk would pile up on the response.
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.once("drain", done);
          res.once("close", done);
        });
      }
    }
    if (!res.destroyed) res.end();
  }

  async function onRequest(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    const method = RPC_PATHS[path];
    if (method === undefined) {
      await plainRoute(req as http.IncomingMessage, res as http.ServerResponse);
      return;
    }
    stats.requests[method] = (stats.requests[method] ?? 0) + 1;
    const fault = faults.take(method);
    if (fault) log(`${method}: injecting ${fault.kind}`);
    switch (fault?.kind) {
      case "reset":
        reset(req);
        return;
      case "http-status":
        res.writeHead(fault.status, { "content-type": "text/plain" });
        res.end(`injected HTTP ${fault.status}`);
        return;
      case "malformed":
        await writeMalformed(res as http.ServerResponse, fault.variant);
        return;
      case "oversized":
        await writeOversized(res as http.ServerResponse, fault.bytes);
        return;
      case "delay":
        await sleep(fault.ms);
        if (req.socket?.destroyed) return;
        break;
      case "ack-lost": {
        // Let the service run (and store) but cut the connection the moment it answers.
        const r = res as http.ServerResponse;
        r.writeHead = (() => {
          reset(req);
          return r;
        }) as typeof r.writeHead;
        break;
      }
      case "cut-response": {
        // Let the service run, send status + headers and half of the first body chunk, then cut.
        const r = res as http.ServerResponse;
        const write = r.write.bind(r) as (chunk: Uint8Array) => boolean;
        let cut = false;
        const cutHere = (chunk: unknown) => {
          if (cut) return;
          cut = true;
          if (chunk instanceof Uint8Array && chunk.length > 1) write(chunk.subarray(0, chunk.length >> 1));
          else r.flushHeaders();
          setImmediate(() => reset(req));
        };
        r.write = ((chunk: unknown) => {
          cutHere(chunk);
          return true;
        }) as typeof r.write;
        r.end = ((chunk?: unknown) => {
          cutHere(chunk);
          return r;
        }) as typeof r.end;
        break;
      }
      default:
        break;
    }
    (req as unknown as { capsyncFault?: Fault }).capsyncFault = fault;
    rpcHandler(req, res);
  }

  // One port for HTTP/1.1 (gRPC-web, Connect) and HTTP/2 (gRPC): with TLS, ALPN
  // picks; in clear text, the HTTP/2 connection preface is sniffed.
  let tlsMaterial: CloudTls | undefined;
  if (options.tls === true) tlsMaterial = makeTestCertificates();
  else if (options.tls) tlsMaterial = options.tls;

  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const handler = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    onRequest(req, res).catch((error) => {
      log(`request failed: ${(error as Error).message}`);
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  };

  let listener: net.Server;
  if (tlsMaterial) {
    const secure = http2.createSecureServer(
      { key: tlsMaterial.key, cert: tlsMaterial.cert, allowHTTP1: true },
      handler as never,
    );
    secure.on("connection", track);
    secure.on("secureConnection", () => stats.tlsHandshakes++);
    secure.setTimeout(0);
    listener = secure;
  } else {
    const h1 = http.createServer(handler as http.RequestListener);
    h1.keepAliveTimeout = 120_000;
    const h2 = http2.createServer(handler as never);
    const preface = "PRI * HTTP/2.0";
    listener = net.createServer((socket) => {
      track(socket);
      socket.once("readable", () => {
        const head = socket.read(preface.length) as Buffer | null;
        const chunk = head ?? (socket.read() as Buffer | null);
        if (chunk) socket.unshift(chunk);
        if (chunk && chunk.toString("latin1", 0, preface.length) === preface) h2.emit("connection", socket);
        else h1.emit("connection", socket);
      });
    });
  }
  listener.on("error", (error) => log(`listener error: ${error.message}`));

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(port, host, () => {
        listener.off("error", reject);
        resolve((listener.address() as net.AddressInfo).port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      listener.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(options.port ?? 0);
  let listening = true;
  const scheme = tlsMaterial ? "https" : "http";

  const cloud: Cloud = {
    url: `${scheme}://${host}:${port}`,
    port,
    ca: tlsMaterial?.ca,
    caDer: tlsMaterial ? new Uint8Array(new X509Certificate(tlsMaterial.ca).raw) : undefined,
    faults,
    stats,
    store,
    readings: (filter) => store.readings(filter),
    count: (filter) => store.count(filter),
    counts: (filter) => store.counts(filter),
    setConfig(config, partId) {
      const targets = partId === undefined ? [...parts.keys()] : [partId];
      let revision = "";
      for (const id of targets) {
        const part = parts.get(id);
        if (!part) throw new Error(`no part ${id}`);
        robotConfigFromJson(config, id, "0");
        part.config = config;
        part.revision++;
        revision = String(part.revision);
      }
      return revision;
    },
    config(partId) {
      const part = parts.get(partId);
      if (!part) throw new Error(`no part ${partId}`);
      return { config: part.config, revision: String(part.revision) };
    },
    expireTokens() {
      for (const info of tokens.values()) info.expiresAt = 0;
    },
    async refuse() {
      if (!listening) return;
      listening = false;
      faults.count("refuse");
      await stopListening();
    },
    async accept() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    async close() {
      if (listening) {
        listening = false;
        await stopListening();
      }
      store.close();
    },
  };
  return cloud;
}
