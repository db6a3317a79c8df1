/*
 * Does a certificate name the host the device meant to reach? RFC 6125 rules,
 * the strict subset browsers apply:
 * - only subjectAltName entries count (no fallback to the subject's CN);
 * - a host written as an IPv4 address matches only iPAddress entries;
 * - comparison ignores ASCII case and one trailing dot;
 * - a wildcard is only a whole left-most label ("*.example.com"), matches
 *   exactly one non-empty label ("a.example.com", never "a.b.example.com" nor
 *   "example.com"), and needs at least two labels after it ("*.com" matches nothing).
 */
import type { Certificate } from "./certificate";

export function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** The four bytes of a dotted IPv4 address, or undefined when `host` is not one. */
export function ipv4Bytes(host: string): Uint8Array | undefined {
  const parts = host.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return bytes;
}

export function dnsNameMatches(pattern: string, host: string): boolean {
  const name = normaliseHost(pattern);
  if (name.length === 0) return false;
  if (!name.startsWith("*.")) return name.indexOf("*") < 0 && name === host;
  const rest = name.slice(2);
  // "*.com" or a second wildcard: never.
  if (rest.indexOf("*") >= 0 || rest.indexOf(".") < 0) return false;
  const dot = host.indexOf(".");
  if (dot <= 0) return false;
  return host.slice(dot + 1) === rest;
}

export function certificateMatchesHost(cert: Certificate, host: string): boolean {
  const wanted = normaliseHost(host);
  const ip = ipv4Bytes(wanted);
  if (ip) {
    for (const address of cert.ipAddresses) {
      if (address.length === 4 && address.every((b, i) => b === ip[i])) return true;
    }
    return false;
  }
  for (const name of cert.dnsNames) if (dnsNameMatches(name, wanted)) return true;
  return false;
}
