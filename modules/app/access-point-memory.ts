/*
 * The access point the device last got an address from (BSSID and channel),
 * kept in the key-value store (NVS on the ESP32) so the next association can
 * go straight to it instead of scanning every channel. In battery mode every
 * sync wake associates anew, and radio-on time is where the battery goes
 * (docs/power.md): with the hint and the ESP32 boards' DHCP settings
 * (boards/*\/sdkconfig: the last lease is restored, no ARP probe) an
 * association takes a fraction of a scan plus a full DHCP exchange.
 *
 * Written only when it changes (not at every wake: NVS wear). Everything read
 * back is untrusted: a value that does not parse, or that belongs to another
 * SSID, is ignored, deleted and logged once. A hinted association that fails
 * forgets the hint, so the retry scans.
 */
import type { KeyValueStore, Logger } from "../ports";

export const ACCESS_POINT_KEY = "cs.ap";

export interface AccessPointHint {
  /** "aa:bb:cc:dd:ee:ff", lower case. */
  bssid: string;
  /** 2.4 GHz channel, 1–14. */
  channel: number;
}

const BSSID = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A BSSID and channel as the platform reports them, normalised, or undefined when not usable. */
export function accessPointHint(bssid: unknown, channel: unknown): AccessPointHint | undefined {
  if (typeof bssid !== "string") return undefined;
  const b = bssid.toLowerCase();
  if (!BSSID.test(b) || b === "00:00:00:00:00:00" || b === "ff:ff:ff:ff:ff:ff") return undefined;
  if (typeof channel !== "number" || !Number.isInteger(channel) || channel < 1 || channel > 14)
    return undefined;
  return { bssid: b, channel };
}

/** The 6 bytes of a hint's BSSID (what the ESP32's WiFi.connect takes). */
export function bssidBytes(hint: AccessPointHint): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(hint.bssid.slice(i * 3, i * 3 + 2), 16);
  return out;
}

export class AccessPointMemory {
  private stored: AccessPointHint | undefined;
  private read = false;
  /** Values read back that were not usable (tests and status). */
  rejected = 0;
  /** Writes to the store (tests: once per change, never per association). */
  writes = 0;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly log: Logger,
    private readonly ssid: string,
  ) {}

  /** The hint for an association to `ssid`, if one is known. */
  hint(): AccessPointHint | undefined {
    if (!this.read) {
      this.read = true;
      this.stored = this.load();
    }
    return this.stored;
  }

  /** An address was obtained through this access point: remember it (a write only when it changed). */
  connected(bssid: unknown, channel: unknown): void {
    const hint = accessPointHint(bssid, channel);
    if (!hint) return;
    const now = this.hint();
    if (now && now.bssid === hint.bssid && now.channel === hint.channel) return;
    this.stored = hint;
    try {
      this.kv.set(
        ACCESS_POINT_KEY,
        JSON.stringify({ ssid: this.ssid, bssid: hint.bssid, channel: hint.channel }),
      );
      this.writes++;
    } catch (error) {
      this.log.warn(
        `network: could not keep the access point for the next start: ${(error as Error)?.message ?? error}`,
      );
    }
  }

  /** An association that used the hint failed: forget it, so the retry scans every channel. */
  failed(): void {
    if (!this.hint()) return;
    this.stored = undefined;
    this.log.info("network: the remembered access point did not answer; scanning all channels");
    this.forget();
  }

  private load(): AccessPointHint | undefined {
    let text: string | undefined;
    try {
      text = this.kv.get(ACCESS_POINT_KEY);
    } catch (error) {
      this.log.warn(`network: remembered access point unreadable: ${(error as Error)?.message ?? error}`);
      return undefined;
    }
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    if (v.ssid !== this.ssid) {
      if (typeof v.ssid === "string") {
        // Another network's access point (the WiFi settings changed): not damage, just stale.
        this.log.info("network: the remembered access point belongs to another network; scanning");
      } else this.reject();
      this.forget();
      return undefined;
    }
    const hint = accessPointHint(v.bssid, v.channel);
    if (!hint) {
      this.reject();
      this.forget();
    }
    return hint;
  }

  private reject(): void {
    this.rejected++;
    this.log.warn(
      `network: the remembered access point (${ACCESS_POINT_KEY}) is damaged; ignored and deleted`,
    );
  }

  private forget(): void {
    try {
      this.kv.delete(ACCESS_POINT_KEY);
    } catch {
      // Deleting is best effort: the next successful association overwrites it.
    }
  }
}
