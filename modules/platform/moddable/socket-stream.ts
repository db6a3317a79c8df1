/*
 * ByteStream (the keep-alive HTTP transport's socket) over Moddable's
 * callback-style `Socket`, or `SecureSocket` for TLS: both report connect,
 * readable(n), writable(n), disconnect and error through one callback.
 *
 * Writes are queued and fed as the socket reports room: a write larger than
 * the socket's free space would otherwise throw on lwIP.
 */
import { Socket } from "socket";
import type { ByteStream, ByteStreamHandler } from "../../app/http1-transport";

const CONNECTED = 1;
const READABLE = 2;
const WRITABLE = 3;
const DISCONNECTED = -1;
const ERROR = -2;

/** The part of Socket / SecureSocket this uses. */
interface CallbackSocket {
  callback: (message: number, value?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer;
  /** With data: send it. Without: the bytes the socket can take now. */
  write(data?: ArrayBuffer | Uint8Array): number | undefined;
  close(): void;
}

export interface SocketStreamOptions {
  host: string;
  port: number;
  /** SecureSocket options (`secure: {...}`) for TLS; omitted for plain TCP. */
  secure?: Record<string, unknown>;
  /** The name the server's certificate must carry (default: `host`). */
  serverName?: string;
  /** The SecureSocket class (passed in so plain-TCP builds need not include TLS). */
  SecureSocket?: new (
    dictionary: Record<string, unknown>,
  ) => unknown;
}

export function openSocketStream(options: SocketStreamOptions, handler: ByteStreamHandler): ByteStream {
  const dictionary: Record<string, unknown> = { host: options.host, port: options.port, noDelay: true };
  let socket: CallbackSocket;
  // Why a TLS connection failed, when the certificate check says (modules/platform/moddable/tls).
  let certificateRefusal: string | undefined;
  if (options.secure && options.SecureSocket) {
    const name = options.serverName ?? options.host;
    const secure = {
      ...options.secure,
      tls_server_name: name,
      onCertificateError: (check: string, detail: string): void => {
        certificateRefusal = `certificate refused for ${name} (${check}): ${detail}`;
      },
    };
    socket = new options.SecureSocket({ ...dictionary, secure }) as CallbackSocket;
  } else {
    socket = new Socket(dictionary as { host: string; port: number }) as unknown as CallbackSocket;
  }
  const queue: Uint8Array[] = [];
  const room = (): number => (socket.write() as number) ?? 0;
  let connected = false;
  let closed = false;

  const flush = (room: number): void => {
    while (queue.length > 0 && room > 0) {
      const head = queue[0]!;
      const n = Math.min(head.length, room);
      const piece = n === head.length ? head : head.subarray(0, n);
      // Socket and SecureSocket read any buffer view: no copy of a 32 KB upload.
      socket.write(piece);
      room -= n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
  };
  const end = (kind: "reset" | "tls" | "refused", reason: string): void => {
    if (closed) return;
    closed = true;
    try {
      socket.close();
    } catch {
      // Already closed by the stack.
    }
    handler.closed(kind, reason);
  };

  socket.callback = (message: number, value?: number): void => {
    if (closed) return;
    // An exception escaping a socket callback aborts the XS machine: turn it into a closed stream.
    try {
      dispatch(message, value);
    } catch (error) {
      end(connected ? "reset" : "refused", `socket failure: ${(error as Error).message}`);
    }
  };

  const dispatch = (message: number, value?: number): void => {
    switch (message) {
      case CONNECTED:
        connected = true;
        handler.connected();
        if (!closed) flush(room());
        break;
      case READABLE: {
        const buffer = socket.read(ArrayBuffer);
        if (buffer && buffer.byteLength > 0) handler.data(new Uint8Array(buffer));
        break;
      }
      case WRITABLE:
        if (connected && !closed) flush(value ?? room());
        break;
      case DISCONNECTED:
        end("reset", "connection closed by the server");
        break;
      case ERROR:
        if (options.secure) {
          end("tls", certificateRefusal ?? (connected ? "TLS error" : "TLS handshake failed"));
          break;
        }
        end(connected ? "reset" : "refused", connected ? "socket error" : "could not connect");
        break;
    }
  };

  return {
    write(bytes: Uint8Array): void {
      if (closed) throw new Error("socket closed");
      queue.push(bytes);
      if (connected) flush(room());
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
