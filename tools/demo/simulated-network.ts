/*
 * The simulated device's network: a WiFi-like link the demo can cut and
 * restore, and TCP byte streams (Node sockets) that exist only while it is up.
 *
 * Cutting the network does what losing WiFi does to a real board: the link
 * reports "down" to the boot's network supervisor, every open connection dies
 * (the HTTP transport sees a reset), and new connections are refused until the
 * network is restored, when the link reports "up" by itself (a WiFi station
 * re-associating) and sync catches up.
 */
import * as net from "node:net";
import type { CloudAddress } from "../../modules/app/cloud-address.ts";
import type { ByteStream, ByteStreamHandler, OpenByteStream } from "../../modules/app/http1-transport.ts";
import type { LinkEvent, NetworkLink } from "../../modules/app/network-supervisor.ts";

export interface DeviceRadio {
  link(): NetworkLink;
  streams(address: CloudAddress): OpenByteStream;
  /** Power cut: every connection dies and the link goes silent. */
  powerOff(): void;
}

export class SimulatedNetwork {
  private isUp = true;
  private readonly sockets = new Set<net.Socket>();
  private readonly links = new Set<(event: LinkEvent) => void>();
  /** Connections opened and refused (status and tests). */
  opened = 0;
  refused = 0;

  get up(): boolean {
    return this.isUp;
  }

  cut(): void {
    if (!this.isUp) return;
    this.isUp = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    for (const listener of this.links) listener("down");
  }

  restore(): void {
    if (this.isUp) return;
    this.isUp = true;
    for (const listener of this.links) listener("up");
  }

  /**
   * One boot's view of the network: its link and its connections, all of
   * which die together at a power cut (the network itself stays as it was).
   */
  radio(): DeviceRadio {
    const sockets = new Set<net.Socket>();
    const listeners = new Set<(event: LinkEvent) => void>();
    let off = false;
    return {
      link: () => this.link(listeners, () => off),
      streams: (address) => (handler) => {
        if (off) throw new Error("the device is powered off");
        return this.open(address, handler, sockets);
      },
      powerOff: () => {
        off = true;
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        for (const l of listeners) this.links.delete(l);
        listeners.clear();
      },
    };
  }

  private link(owned: Set<(event: LinkEvent) => void>, off: () => boolean): NetworkLink {
    let listener: ((event: LinkEvent) => void) | undefined;
    const report = () => {
      // Asynchronous like a real association, and never inside the supervisor's own call.
      setImmediate(() => {
        if (!off()) listener?.(this.isUp ? "up" : "down");
      });
    };
    return {
      start: (l) => {
        listener = l;
        this.links.add(l);
        owned.add(l);
        report();
      },
      retry: report,
      close: () => {
        if (listener) {
          this.links.delete(listener);
          owned.delete(listener);
        }
        listener = undefined;
      },
    };
  }

  private open(address: CloudAddress, handler: ByteStreamHandler, owned: Set<net.Socket>): ByteStream {
    if (address.secure)
      throw new Error("the demo's local cloud is plain HTTP on loopback; TLS is not wired here");
    if (!this.isUp) {
      this.refused++;
      let closed = false;
      setImmediate(() => {
        if (!closed) handler.closed("refused", "network is down (cut in the demo)");
      });
      return {
        write() {
          throw new Error("network is down");
        },
        close() {
          closed = true;
        },
      };
    }
    this.opened++;
    const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
    this.sockets.add(socket);
    owned.add(socket);
    let connected = false;
    let ended = false;
    const end = (kind: "reset" | "refused", reason: string) => {
      if (ended) return;
      ended = true;
      this.sockets.delete(socket);
      owned.delete(socket);
      handler.closed(kind, reason);
    };
    socket.on("connect", () => {
      connected = true;
      handler.connected();
    });
    socket.on("data", (chunk: Buffer) => {
      if (!ended) handler.data(new Uint8Array(chunk));
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      end(connected ? "reset" : "refused", error.code ?? error.message);
    });
    socket.on("close", () => {
      end(connected ? "reset" : "refused", this.isUp ? "connection closed by the server" : "network is down");
    });
    return {
      write(bytes) {
        if (ended) throw new Error("socket closed");
        socket.write(bytes);
      },
      close: () => {
        ended = true;
        this.sockets.delete(socket);
        owned.delete(socket);
        socket.destroy();
      },
    };
  }
}
