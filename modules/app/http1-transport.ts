/*
 * HttpTransport over one kept-alive HTTP/1.1 connection.
 *
 * Moddable's classic `http` Request closes its socket after every request,
 * and on an ESP32 each new TLS connection costs seconds of handshake and tens
 * of KB of heap. This transport opens one connection (TCP or TLS: the platform
 * supplies the byte stream), sends requests on it one at a time, and reopens
 * only when the server closed it or a request failed. It is platform-free so
 * the same code runs in the simulator, on the device, and under Node tests.
 *
 * Nothing is written before the stream reports `connected`, which a TLS
 * stream does only after the handshake, certificate check included, has
 * completed: a refused server never receives a byte of the request (whose
 * first one, on a new connection, carries the robot secret).
 */
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  type TimerId,
  type Timers,
  TransportError,
  type TransportErrorKind,
} from "../ports";
import { utf8Length, writeUtf8 } from "../proto/writer";
import { Http1ResponseParser, HttpParseError } from "./http1-response";

/** Callbacks a byte stream reports through. */
export interface ByteStreamHandler {
  connected(): void;
  data(bytes: Uint8Array): void;
  /** The stream ended: by the peer ("reset" when abrupt), by a TLS failure, a refusal, … */
  closed(kind: TransportErrorKind, reason: string): void;
}

/** A connected (or connecting) byte stream: a Moddable Socket / SecureSocket, or a Node socket in tests. */
export interface ByteStream {
  /** Queue bytes; the stream writes them as the socket accepts them. */
  write(bytes: Uint8Array): void;
  close(): void;
}

export type OpenByteStream = (handler: ByteStreamHandler) => ByteStream;

export interface Http1TransportOptions {
  open: OpenByteStream;
  /** Value of the Host header, e.g. "app.viam.com" (port appended when not the scheme's default). */
  host: string;
  timers: Timers;
}

interface Pending {
  request: HttpRequest;
  resolve: (response: HttpResponse) => void;
  reject: (error: Error) => void;
}

export class Http1Transport implements HttpTransport {
  private readonly options: Http1TransportOptions;
  private stream: ByteStream | undefined;
  private connected = false;
  private queue: Pending[] = [];
  private current: Pending | undefined;
  private parser: Http1ResponseParser | undefined;
  private timer: TimerId | undefined;
  private closed = false;
  /** Connections opened so far (a TLS handshake each on the device). */
  connectionsOpened = 0;
  requestsSent = 0;
  /** Connections that ended in a TLS failure (a refused certificate, a failed handshake). */
  tlsFailures = 0;
  /** The last TLS failure's reason ("certificate refused for app.viam.com (expired): …"), or "". */
  lastTlsFailure = "";

  constructor(options: Http1TransportOptions) {
    this.options = options;
  }

  request(request: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      if (this.closed) {
        reject(new TransportError("other", "transport closed"));
        return;
      }
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  close(): void {
    this.closed = true;
    this.dropConnection();
    this.fail(new TransportError("other", "transport closed"));
    for (const pending of this.queue.splice(0))
      pending.reject(new TransportError("other", "transport closed"));
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.closed) return;
    const pending = this.queue.shift()!;
    this.current = pending;
    this.parser = new Http1ResponseParser(pending.request.maxResponseBytes);
    this.armTimeout(pending.request.timeoutMs);
    if (this.stream && this.connected) {
      this.send(pending.request);
      return;
    }
    if (!this.stream) this.openConnection();
  }

  private openConnection(): void {
    this.connectionsOpened++;
    this.connected = false;
    let stream: ByteStream | undefined;
    const handler: ByteStreamHandler = {
      connected: () => {
        if (stream !== this.stream) return;
        this.connected = true;
        if (this.current) this.send(this.current.request);
      },
      data: (bytes) => {
        if (stream !== this.stream) return;
        this.onData(bytes);
      },
      closed: (kind, reason) => {
        if (stream !== this.stream) return;
        this.onClosed(kind, reason);
      },
    };
    try {
      stream = this.options.open(handler);
      this.stream = stream;
    } catch (error) {
      this.stream = undefined;
      this.fail(new TransportError("refused", `cannot open a connection: ${(error as Error).message}`));
    }
  }

  private send(request: HttpRequest): void {
    let head = `POST ${request.path} HTTP/1.1\r\nhost: ${this.options.host}\r\ncontent-length: ${request.body.length}\r\n`;
    for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
    head += "\r\n";
    const headBytes = new Uint8Array(utf8Length(head));
    writeUtf8(head, headBytes, 0);
    this.requestsSent++;
    try {
      // Head and body go out as two writes: copying a 32 KB upload into one
      // buffer would double its peak RAM on a 160 KB heap. The caller keeps
      // the body untouched until the response arrives, so queuing it is safe.
      this.stream!.write(headBytes);
      if (request.body.length > 0) this.stream!.write(request.body);
    } catch (error) {
      this.dropConnection();
      this.fail(new TransportError("reset", `write failed: ${(error as Error).message}`));
    }
  }

  private onData(bytes: Uint8Array): void {
    const parser = this.parser;
    if (!this.current || !parser) {
      // Bytes nobody asked for: the connection is out of step; start over.
      this.dropConnection();
      return;
    }
    try {
      const used = parser.push(bytes);
      if (!parser.done) return;
      if (used < bytes.length || parser.closeAfter) this.dropConnection();
      this.succeed(parser.response());
    } catch (error) {
      this.dropConnection();
      const tooLarge = error instanceof HttpParseError && error.tooLarge;
      this.fail(
        new TransportError(
          tooLarge ? "too-large" : "other",
          `bad HTTP response: ${(error as Error).message}`,
        ),
      );
    }
  }

  private onClosed(kind: TransportErrorKind, reason: string): void {
    if (kind === "tls") {
      this.tlsFailures++;
      this.lastTlsFailure = reason;
    }
    const wasConnected = this.connected;
    this.stream = undefined;
    this.connected = false;
    const parser = this.parser;
    if (!this.current || !parser) return;
    if (parser.started) {
      try {
        parser.endOfStream();
        this.succeed(parser.response());
        return;
      } catch {
        // Truncated: fall through to failure.
      }
    }
    const failKind: TransportErrorKind = !wasConnected && kind === "reset" ? "refused" : kind;
    this.fail(new TransportError(failKind, reason));
  }

  private succeed(response: HttpResponse): void {
    const current = this.current!;
    this.finish();
    current.resolve(response);
    this.pump();
  }

  private fail(error: TransportError): void {
    const current = this.current;
    if (!current) return;
    this.finish();
    current.reject(error);
    this.pump();
  }

  private finish(): void {
    this.current = undefined;
    this.parser = undefined;
    if (this.timer !== undefined) this.options.timers.clear(this.timer);
    this.timer = undefined;
  }

  private armTimeout(ms: number): void {
    this.timer = this.options.timers.set(() => {
      this.timer = undefined;
      this.dropConnection();
      this.fail(new TransportError("timeout", `no complete response within ${ms} ms`));
    }, ms);
  }

  private dropConnection(): void {
    const stream = this.stream;
    this.stream = undefined;
    this.connected = false;
    if (stream) {
      try {
        stream.close();
      } catch {
        // Already gone.
      }
    }
  }
}
