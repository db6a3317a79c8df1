/*
 * SecureSocket options for the cloud connection, the same on the ESP32 and in
 * the simulator: TLS 1.2 (the SDK's only version) and the roots to trust in
 * addition to the bundled ones (a self-hosted cloud's CA, the tests' root).
 * Verification itself happens in certificate-manager.ts, which the manifest
 * fragment (manifest.json beside this file) installs as the SDK's "ssl/cert".
 */
export function secureOptions(extraRoots: (ArrayBuffer | Uint8Array)[]): Record<string, unknown> {
  return { protocolVersion: 0x303, certificates: extraRoots };
}
