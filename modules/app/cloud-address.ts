/*
 * The cloud address as Viam writes it in viam.json (`app_address`, e.g.
 * "https://app.viam.com:443"), split into what a socket needs. Written by hand
 * because XS has no URL class and the grammar needed here is tiny.
 *
 * Strict on purpose: the address comes from NVS, a build setting or a file,
 * and whatever is accepted here becomes a DNS name and a TLS server name. So
 * `scheme://host[:port][/]` and nothing else: no user info (`user@host`), no
 * path, query or fragment, no spaces, NUL or other control characters, a host
 * of DNS labels (1-63 letters, digits or inner hyphens; 253 characters in all)
 * or a dotted IPv4 address, a port of 1-5 digits in 1..65535. Which schemes a
 * build may use (plain http only for a local cloud) is the TLS policy's call,
 * not the parser's.
 */

export interface CloudAddress {
  /** True for https (TLS), false for plain http (a local cloud on loopback). */
  secure: boolean;
  host: string;
  port: number;
}

/** Longest address looked at (a 253-character host, scheme and port fit). */
export const MAX_CLOUD_ADDRESS_LENGTH = 300;
const MAX_HOST_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

/** The text, quoted with every control character escaped and cut short, for an error message. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

/**
 * Parse `http[s]://host[:port][/]`. Throws an Error naming the field and
 * what is wrong with it. `field` names where the text came from.
 */
export function parseCloudAddress(text: string, field = "app_address"): CloudAddress {
  const fail = (what: string): never => {
    throw new Error(`${field} ${quote(String(text))}: ${what}`);
  };
  if (typeof text !== "string" || text === "") return fail("is empty");
  if (text.length > MAX_CLOUD_ADDRESS_LENGTH)
    return fail(`longer than ${MAX_CLOUD_ADDRESS_LENGTH} characters`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) {
      return fail(
        c === 0x20
          ? `a space at character ${i + 1}`
          : `control character 0x${c.toString(16)} at character ${i + 1}`,
      );
    }
    if (c > 0x7e)
      return fail(`non-ASCII character at character ${i + 1} (use the punycode form of the host)`);
  }
  const schemeEnd = text.indexOf("://");
  if (schemeEnd < 0) return fail("is not of the form https://host[:port] (or http:// for a local cloud)");
  const scheme = text.slice(0, schemeEnd).toLowerCase();
  if (scheme !== "https" && scheme !== "http") return fail(`scheme "${scheme}" is not https (or http)`);
  let rest = text.slice(schemeEnd + 3);
  const tail = rest.search(/[/?#]/);
  if (tail >= 0) {
    if (rest.slice(tail) !== "/")
      return fail("has a path, query or fragment: only https://host[:port] is allowed");
    rest = rest.slice(0, tail);
  }
  if (rest.includes("@")) return fail("has user info (user@host): credentials never go in the address");
  if (rest.startsWith("[")) return fail("IPv6 literal hosts are not supported");
  const colon = rest.indexOf(":");
  const host = (colon < 0 ? rest : rest.slice(0, colon)).toLowerCase();
  const secure = scheme === "https";
  let port = secure ? 443 : 80;
  if (colon >= 0) {
    const digits = rest.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(digits)) return fail(`port ${quote(digits)} is not a number of 1 to 5 digits`);
    port = Number(digits);
    if (port < 1 || port > 65535) return fail(`port ${port} is out of range (1..65535)`);
  }
  if (host === "") return fail("host is empty");
  if (host.length > MAX_HOST_LENGTH) return fail(`host is longer than ${MAX_HOST_LENGTH} characters`);
  const labels = host.split(".");
  for (const label of labels) {
    if (label === "") return fail("host has an empty label");
    if (label.length > MAX_LABEL_LENGTH)
      return fail(`host has a label longer than ${MAX_LABEL_LENGTH} characters`);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label)) {
      return fail(`host label ${quote(label)} is not letters, digits and inner hyphens`);
    }
  }
  // All-numeric hosts must be a dotted IPv4 address (else "1.2.3" or "999.1.1.1" would go to DNS).
  if (labels.every((l) => /^[0-9]+$/.test(l))) {
    if (labels.length !== 4 || labels.some((l) => Number(l) > 255 || (l.length > 1 && l.startsWith("0")))) {
      return fail("host is all digits but not a dotted IPv4 address");
    }
  }
  return { secure, host, port };
}

export function formatCloudAddress(address: CloudAddress): string {
  const scheme = address.secure ? "https" : "http";
  return `${scheme}://${address.host}:${address.port}`;
}
