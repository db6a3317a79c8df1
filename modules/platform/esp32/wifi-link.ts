/*
 * NetworkLink over Moddable's `wifi` module (station mode). Non-blocking:
 * `start` begins association and returns; the supervisor in modules/app decides
 * when to give up and retry. "up" means an IP address, not just association:
 * sockets need the address.
 *
 * Fast association: the access point of the last address (BSSID and channel,
 * modules/app/access-point-memory.ts) is passed to WiFi.connect, so the
 * driver goes to it without scanning every channel. An attempt that used the
 * hint and failed forgets it; the supervisor's retry then scans.
 */
import Net from "net";
import WiFi, { type WiFiOptions } from "wifi";
import { type AccessPointMemory, bssidBytes } from "../../app/access-point-memory";
import type { WifiSettings } from "../../app/credentials";
import type { LinkEvent, NetworkLink } from "../../app/network-supervisor";

/** What the ESP32's WiFi.connect accepts (xs6wifi.c): the typings leave out the channel. */
type ConnectOptions = WiFiOptions & { channel?: number };

export class WifiLink implements NetworkLink {
  private readonly settings: WifiSettings;
  private readonly memory: AccessPointMemory | undefined;
  private monitor: WiFi | undefined;
  private hinted = false;
  private up = false;

  constructor(settings: WifiSettings, memory?: AccessPointMemory) {
    this.settings = settings;
    this.memory = memory;
  }

  start(listener: (event: LinkEvent) => void): void {
    WiFi.mode = WiFi.Mode.station;
    this.monitor = new WiFi(this.options(), (message) => {
      if (message === WiFi.gotIP) {
        this.up = true;
        const get = Net.get as (what: string) => unknown;
        this.memory?.connected(get("BSSID"), get("CHANNEL"));
        listener("up");
      } else if (message === WiFi.disconnected || message === WiFi.lostIP) {
        if (!this.up && this.hinted) this.memory?.failed();
        this.up = false;
        listener("down");
      }
    });
  }

  retry(): void {
    // An attempt that never got an address: if it went to the remembered access point, scan next time.
    if (!this.up && this.hinted) this.memory?.failed();
    WiFi.disconnect();
    WiFi.connect(this.options());
  }

  close(): void {
    this.monitor?.close();
    this.monitor = undefined;
    WiFi.disconnect();
  }

  private options(): ConnectOptions {
    const options: ConnectOptions = { ssid: this.settings.ssid };
    if (this.settings.password) options.password = this.settings.password;
    const hint = this.memory?.hint();
    this.hinted = hint !== undefined;
    if (hint) {
      options.bssid = bssidBytes(hint).buffer as ArrayBuffer;
      options.channel = hint.channel;
    }
    return options;
  }
}
