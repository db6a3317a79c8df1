/*
 * The simulator's network: the desktop's own, always up. (mcsim's WiFi is a
 * stand-in; capsync talks to the local cloud over the host's loopback.)
 */
import type { LinkEvent, NetworkLink } from "../../app/network-supervisor";

export class AlwaysUpLink implements NetworkLink {
  start(listener: (event: LinkEvent) => void): void {
    listener("up");
  }
  retry(): void {}
  close(): void {}
}
