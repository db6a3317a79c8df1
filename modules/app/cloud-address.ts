/*
 * The cloud address as Viam writes it in viam.json (`app_address`, e.g.
 * "https://app.viam.com:443"), split into what a socket needs. Written by hand
 * because XS has no URL class and the grammar needed here is tiny.
 */

export interface CloudAddress {
  /** True for https (TLS), false for plain http (a local cloud on loopback). */
  secure: boolean;
  host: string;
  port: number;
}

/** Parse `http[s]://host[:port][/]`. Throws an Error naming what is wrong. */
export function parseCloudAddress(text: string): CloudAddress {
  const match = /^(https?):\/\/([^/:?#\s]+)(?::(\d{1,5}))?\/?$/.exec(text.trim());
  if (!match) {
    throw new Error(
      `cloud address "${text}" is not of the form https://host[:port] (or http:// for a local cloud)`,
    );
  }
  const secure = match[1] === "https";
  const port = match[3] === undefined ? (secure ? 443 : 80) : Number(match[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`cloud address "${text}": port ${port} is out of range`);
  return { secure, host: match[2]!.toLowerCase(), port };
}

export function formatCloudAddress(address: CloudAddress): string {
  const scheme = address.secure ? "https" : "http";
  return `${scheme}://${address.host}:${address.port}`;
}
