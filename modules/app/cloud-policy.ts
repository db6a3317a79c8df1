/*
 * Whether the device may use a cloud address. The robot secret is the first
 * thing sent on every connection, so a plain `http://` address would hand it
 * to anyone on the path. Plain HTTP is accepted only to a loopback address
 * (a local cloud on the same computer: the simulator, the demo, the tests)
 * or when the build sets the documented insecure option
 * `allowInsecureHttp` (docs/security.md); either way each boot warns.
 */
import type { CloudAddress } from "./cloud-address";

export interface CloudAddressVerdict {
  /** Why the address is refused (the device then syncs nothing), or undefined. */
  refused?: string;
  /** A warning to log at this boot, or undefined. */
  warning?: string;
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host === "::1" || host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function judgeCloudAddress(address: CloudAddress, allowInsecureHttp: boolean): CloudAddressVerdict {
  if (address.secure) return {};
  const where = `http://${address.host}:${address.port}`;
  if (isLoopbackHost(address.host)) {
    return {
      warning: `boot: the cloud address ${where} is plain HTTP (loopback only): no TLS, the secret travels unencrypted on this computer`,
    };
  }
  if (allowInsecureHttp) {
    return {
      warning: `boot: INSECURE: the cloud address ${where} is plain HTTP and allowInsecureHttp is set: the robot secret and all data travel unencrypted`,
    };
  }
  return {
    refused: `the cloud address ${where} is plain HTTP to a host that is not loopback: the robot secret would travel unencrypted. Use https://, or build with allowInsecureHttp=1 if you accept that (docs/security.md)`,
  };
}

/** The build option's value ("1", "true", true) as a boolean. */
export function insecureHttpAllowed(buildConfig: Record<string, unknown> | undefined): boolean {
  const value = buildConfig?.allowInsecureHttp;
  return value === true || value === 1 || value === "1" || value === "true";
}
