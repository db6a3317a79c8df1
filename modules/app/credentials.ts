/*
 * Who the device is to the cloud, and how it reaches the network.
 *
 * Credentials are the three values of the `viam.json` a Viam user downloads
 * for a machine part: {"cloud": {"id", "secret", "app_address"}}. They and
 * the WiFi settings live in the key/value store (NVS `Preference` on ESP32),
 * under keys of at most 15 characters (an NVS limit). How they get there is
 * the provisioning step: see `provisionFromBuildConfig` and docs/esp32.md.
 */
import type { KeyValueStore } from "../ports";
import { type CloudAddress, parseCloudAddress } from "./cloud-address";

/** NVS keys (each ≤ 15 characters). */
export const CREDENTIAL_KEYS = {
  partId: "part_id",
  secret: "part_secret",
  appAddress: "app_address",
  wifiSsid: "wifi_ssid",
  wifiPassword: "wifi_password",
} as const;

export interface Credentials {
  partId: string;
  secret: string;
  /** As written in viam.json, e.g. "https://app.viam.com:443". */
  appAddress: string;
  cloud: CloudAddress;
}

export interface WifiSettings {
  ssid: string;
  /** Empty for an open network. */
  password: string;
}

export type CredentialsResult = { ok: true; credentials: Credentials } | { ok: false; problems: string[] };

/** NVS values are limited to 4000 bytes; a credential longer than this is a provisioning mistake. */
const MAX_VALUE_CHARS = 1000;

/**
 * Read and check the credentials. Never throws: a missing or malformed value
 * comes back as a problem naming the key, so boot can log it and keep capturing.
 */
export function loadCredentials(kv: KeyValueStore): CredentialsResult {
  const problems: string[] = [];
  const partId = readValue(kv, CREDENTIAL_KEYS.partId, problems);
  const secret = readValue(kv, CREDENTIAL_KEYS.secret, problems);
  const appAddress = readValue(kv, CREDENTIAL_KEYS.appAddress, problems);
  let cloud: CloudAddress | undefined;
  if (appAddress !== undefined) {
    try {
      cloud = parseCloudAddress(appAddress);
    } catch (error) {
      problems.push(`"${CREDENTIAL_KEYS.appAddress}": ${(error as Error).message}`);
    }
  }
  if (partId !== undefined && !isPartId(partId)) {
    problems.push(`"${CREDENTIAL_KEYS.partId}" is not a part id (expected a UUID such as 0f1e2d3c-…)`);
  }
  if (
    problems.length > 0 ||
    partId === undefined ||
    secret === undefined ||
    appAddress === undefined ||
    !cloud
  ) {
    return { ok: false, problems };
  }
  return { ok: true, credentials: { partId, secret, appAddress, cloud } };
}

/** WiFi settings, or undefined when none are stored (the device then stays offline, still capturing). */
export function loadWifiSettings(kv: KeyValueStore): WifiSettings | undefined {
  const ssid = kv.get(CREDENTIAL_KEYS.wifiSsid);
  if (ssid === undefined || ssid === "") return undefined;
  return { ssid, password: kv.get(CREDENTIAL_KEYS.wifiPassword) ?? "" };
}

function readValue(kv: KeyValueStore, key: string, problems: string[]): string | undefined {
  let value: string | undefined;
  try {
    value = kv.get(key);
  } catch (error) {
    problems.push(`"${key}" could not be read: ${(error as Error).message}`);
    return undefined;
  }
  if (value === undefined || value.trim() === "") {
    problems.push(`"${key}" is not set`);
    return undefined;
  }
  if (value.length > MAX_VALUE_CHARS) {
    problems.push(`"${key}" is ${value.length} characters long, more than any credential`);
    return undefined;
  }
  return value.trim();
}

function isPartId(text: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text);
}

/** The credentials inside a viam.json file's text. Throws an Error naming the missing field. */
export function parseViamJson(text: string): { partId: string; secret: string; appAddress: string } {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw new Error(`viam.json is not JSON: ${(error as Error).message}`);
  }
  const cloud = isRecord(root) ? root.cloud : undefined;
  if (!isRecord(cloud)) throw new Error(`viam.json has no "cloud" object`);
  const field = (name: string): string => {
    const value = cloud[name];
    if (typeof value !== "string" || value === "")
      throw new Error(`viam.json: "cloud.${name}" is missing or not a string`);
    return value;
  };
  const appAddress = field("app_address");
  parseCloudAddress(appAddress);
  return { partId: field("id"), secret: field("secret"), appAddress };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Build-time provisioning: the values `mcconfig … partId=… secret=… appAddress=…
 * ssid=… password=…` put into `mc/config` are copied into the store when they
 * differ from what it holds, so a rebuild with new credentials takes effect and
 * a build without them leaves provisioned values alone. Returns the keys
 * written (never the values: the secret must not reach a log).
 */
export function provisionFromBuildConfig(kv: KeyValueStore, config: Record<string, unknown>): string[] {
  const pairs: [string, unknown][] = [
    [CREDENTIAL_KEYS.partId, config.partId],
    [CREDENTIAL_KEYS.secret, config.secret],
    [CREDENTIAL_KEYS.appAddress, config.appAddress],
    [CREDENTIAL_KEYS.wifiSsid, config.ssid],
    [CREDENTIAL_KEYS.wifiPassword, config.password],
  ];
  const written: string[] = [];
  for (const [key, value] of pairs) {
    if (typeof value !== "string" || value === "") continue;
    if (kv.get(key) === value) continue;
    kv.set(key, value);
    written.push(key);
  }
  return written;
}
