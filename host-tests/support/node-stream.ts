// Node's socket as the firmware transport's byte stream to a loopback port (the device uses Moddable's
// Socket): for tests that run the whole firmware against the local cloud.
import * as net from "node:net";
import type { ByteStream, ByteStreamHandler, OpenByteStream } from "../../modules/app/http1-transport";

export function nodeStream(port: number): OpenByteStream {
  return (handler: ByteStreamHandler): ByteStream => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let connected = false;
    let ended = false;
    const end = (kind: "reset" | "refused", reason: string): void => {
      if (ended) return;
      ended = true;
      handler.closed(kind, reason);
    };
    socket.on("connect", () => {
      connected = true;
      handler.connected();
    });
    socket.on("data", (chunk) => handler.data(new Uint8Array(chunk)));
    socket.on("error", (error) => end(connected ? "reset" : "refused", error.message));
    socket.on("close", () => end("reset", "closed by the server"));
    return {
      write: (bytes) => void socket.write(bytes),
      close: () => {
        ended = true;
        socket.destroy();
      },
    };
  };
}
