/*
 * The device's view of Viam's cloud: authenticate with the part's secret,
 * fetch the machine config, upload captured data.
 *
 * The access token is cached and sent as `authorization: Bearer …`. When a
 * call comes back UNAUTHENTICATED (token expired or revoked), the client
 * re-authenticates once and retries that call once; a second
 * UNAUTHENTICATED is returned to the caller. The secret and the token never
 * reach the logger or an error message.
 */

import { type Logger, silentLogger } from "../ports";
import { decodeAuthenticateResponse, encodeAuthenticateRequest, ROBOT_SECRET } from "../proto/auth";
import { decodeConfigResponse, encodeConfigRequest, type MachineConfig } from "../proto/config";
import { ProtoDecodeError, ProtoReader } from "../proto/reader";
import { ProtoWriter, WIRE_LEN } from "../proto/writer";
import { type CallOptions, GrpcWebClient, type GrpcWebClientOptions } from "./client";
import { Code, RpcError } from "./status";

export const AUTHENTICATE_PATH = "/proto.rpc.v1.AuthService/Authenticate";
export const CONFIG_PATH = "/viam.app.v1.RobotService/Config";
export const DATA_CAPTURE_UPLOAD_PATH = "/viam.app.datasync.v1.DataSyncService/DataCaptureUpload";

export interface CloudClientOptions extends GrpcWebClientOptions {
  partId: string;
  secret: string;
  logger?: Logger;
  /** Size limit for config responses (they are the biggest thing the device reads); 64 KiB. */
  configMaxResponseBytes?: number;
  /** Size limit for every other response; 4 KiB. */
  maxResponseBytes?: number;
}

export interface CloudClientCounters {
  authentications: number;
  /** Re-authentications triggered by an UNAUTHENTICATED answer. */
  reauthentications: number;
  calls: number;
  failures: number;
}

export class CloudClient {
  readonly partId: string;
  readonly rpc: GrpcWebClient;
  readonly counters: CloudClientCounters = {
    authentications: 0,
    reauthentications: 0,
    calls: 0,
    failures: 0,
  };
  private readonly secret: string;
  private readonly logger: Logger;
  private readonly configMaxResponseBytes: number;
  private readonly writer = new ProtoWriter(256);
  private token: string | undefined;
  private authorization: Record<string, string> = {};
  private authenticating: Promise<void> | undefined;
  private uploadOptionsFor: Record<string, string> | undefined;
  private cachedUploadOptions: CallOptions = {};

  constructor(options: CloudClientOptions) {
    this.partId = options.partId;
    this.secret = options.secret;
    this.logger = options.logger ?? silentLogger;
    this.configMaxResponseBytes = options.configMaxResponseBytes ?? 64 * 1024;
    this.rpc = new GrpcWebClient({ ...options, maxResponseBytes: options.maxResponseBytes ?? 4096 });
  }

  get authenticated(): boolean {
    return this.token !== undefined;
  }

  /** Get a fresh access token (concurrent callers share one Authenticate call). */
  authenticate(): Promise<void> {
    if (!this.authenticating) {
      this.authenticating = this.doAuthenticate().finally(() => {
        this.authenticating = undefined;
      });
    }
    return this.authenticating;
  }

  private async doAuthenticate(): Promise<void> {
    this.token = undefined;
    const request = encodeAuthenticateRequest(this.writer.reset(), this.partId, ROBOT_SECRET, this.secret);
    let response: Uint8Array;
    try {
      response = await this.rpc.unary(AUTHENTICATE_PATH, request);
    } catch (error) {
      this.logger.warn(`authentication as part ${this.partId} failed: ${(error as Error).message}`);
      throw error;
    }
    const token = decodeOrInternal(() => decodeAuthenticateResponse(response), "AuthenticateResponse");
    if (token.length === 0)
      throw new RpcError(Code.UNAUTHENTICATED, "AuthenticateResponse had no access token");
    this.token = token;
    this.authorization = { authorization: `Bearer ${token}` };
    this.counters.authentications++;
    this.logger.info(`authenticated as part ${this.partId}`);
  }

  /** The part's machine config, decoded to plain objects. */
  async config(partId = this.partId, options: CallOptions = {}): Promise<MachineConfig> {
    const response = await this.authorizedCall(
      CONFIG_PATH,
      () => encodeConfigRequest(this.writer.reset(), partId),
      { maxResponseBytes: this.configMaxResponseBytes, ...options },
    );
    return decodeOrInternal(() => decodeConfigResponse(response), "ConfigResponse");
  }

  /**
   * Send one encoded DataCaptureUploadRequest; resolves to the file id on the
   * cloud's acknowledgement. Rejects with RpcError (transport failures carry
   * `transport`).
   */
  async dataCaptureUpload(request: Uint8Array, options: CallOptions = {}): Promise<string> {
    const response = await this.authorizedCall(DATA_CAPTURE_UPLOAD_PATH, () => request, options);
    return decodeOrInternal(() => readFileId(response), "DataCaptureUploadResponse");
  }

  /** UploadSender (modules/sync/target.ts): upload and resolve on acknowledgement. */
  async send(request: Uint8Array): Promise<void> {
    await this.dataCaptureUpload(request);
  }

  /**
   * UploadSender's zero-copy path: `frame` is 5 bytes of room for the
   * gRPC-web frame header followed by the encoded request, so the request
   * buffer is sent as is instead of being copied into a second one.
   */
  async sendFramed(frame: Uint8Array): Promise<void> {
    // The device's upload path, once per request: no closures, no option objects, no strings
    // (the file id is checked for well-formedness, not decoded).
    this.counters.calls++;
    try {
      if (this.token === undefined) await this.authenticate();
      let response: Uint8Array;
      try {
        response = await this.rpc.unaryFramed(DATA_CAPTURE_UPLOAD_PATH, frame, this.uploadOptions());
      } catch (error) {
        if (!(error instanceof RpcError) || error.code !== Code.UNAUTHENTICATED) throw error;
        this.logger.info(`${DATA_CAPTURE_UPLOAD_PATH}: token rejected, re-authenticating`);
        this.counters.reauthentications++;
        await this.authenticate();
        response = await this.rpc.unaryFramed(DATA_CAPTURE_UPLOAD_PATH, frame, this.uploadOptions());
      }
      try {
        skipFileId(response);
      } catch (error) {
        if (error instanceof ProtoDecodeError)
          throw new RpcError(
            Code.INTERNAL,
            `malformed DataCaptureUploadResponse: ${error.message}`,
            "protocol",
          );
        throw error;
      }
    } catch (error) {
      this.counters.failures++;
      throw error;
    }
  }

  /** Call options for uploads: one object per token, not per request. */
  private uploadOptions(): CallOptions {
    if (this.uploadOptionsFor !== this.authorization) {
      this.uploadOptionsFor = this.authorization;
      this.cachedUploadOptions = { headers: this.authorization };
    }
    return this.cachedUploadOptions;
  }

  private async authorizedCall(
    path: string,
    build: () => Uint8Array,
    options: CallOptions,
    framed = false,
  ): Promise<Uint8Array> {
    this.counters.calls++;
    const call = (body: Uint8Array) =>
      framed
        ? this.rpc.unaryFramed(path, body, { ...options, headers: this.authorization })
        : this.rpc.unary(path, body, { ...options, headers: this.authorization });
    try {
      if (this.token === undefined) await this.authenticate();
      try {
        return await call(build());
      } catch (error) {
        if (!(error instanceof RpcError) || error.code !== Code.UNAUTHENTICATED) throw error;
        this.logger.info(`${path}: token rejected, re-authenticating`);
        this.counters.reauthentications++;
        await this.authenticate();
        return await call(build());
      }
    } catch (error) {
      this.counters.failures++;
      throw error;
    }
  }
}

function decodeOrInternal<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtoDecodeError) {
      throw new RpcError(Code.INTERNAL, `malformed ${what}: ${error.message}`, "protocol");
    }
    throw error;
  }
}

/** Checks a DataCaptureUploadResponse is well formed without decoding its file id (a string per upload). */
function skipFileId(bytes: Uint8Array): void {
  const r = new ProtoReader(bytes);
  while (r.more()) {
    if (r.tag() === 1) r.expect(WIRE_LEN);
    r.skip();
  }
}

function readFileId(bytes: Uint8Array): string {
  const r = new ProtoReader(bytes);
  let fileId = "";
  while (r.more()) {
    if (r.tag() === 1) {
      r.expect(WIRE_LEN);
      fileId = r.string();
    } else r.skip();
  }
  return fileId;
}
