/*
 * NetworkLink over Moddable's `wifi` module (station mode). Non-blocking:
 * `start` begins association and returns; the supervisor in modules/app decides
 * when to give up and retry. "up" means an IP address, not just association:
 * sockets need the address.
 */
import WiFi from "wifi";
import type { WifiSettings } from "../../app/credentials";
import type { LinkEvent, NetworkLink } from "../../app/network-supervisor";

export class WifiLink implements NetworkLink {
  private readonly settings: WifiSettings;
  private monitor: WiFi | undefined;

  constructor(settings: WifiSettings) {
    this.settings = settings;
  }

  start(listener: (event: LinkEvent) => void): void {
    WiFi.mode = WiFi.Mode.station;
    this.monitor = new WiFi(this.options(), (message) => {
      if (message === WiFi.gotIP) listener("up");
      else if (message === WiFi.disconnected || message === WiFi.lostIP) listener("down");
    });
  }

  retry(): void {
    WiFi.disconnect();
    WiFi.connect(this.options());
  }

  close(): void {
    this.monitor?.close();
    this.monitor = undefined;
    WiFi.disconnect();
  }

  private options(): { ssid: string; password?: string } {
    return this.settings.password
      ? { ssid: this.settings.ssid, password: this.settings.password }
      : { ssid: this.settings.ssid };
  }
}
