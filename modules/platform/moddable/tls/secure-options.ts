/*
 * SecureSocket options for the cloud connection, the same on the ESP32 and in
 * the simulator: TLS 1.2 (the SDK's only version) and the roots to trust in
 * addition to the bundled ones (a self-hosted cloud's CA, the tests' root).
 * Verification itself happens in certificate-manager.ts, which the manifest
 * fragment beside this file installs as the SDK's "ssl/cert".
 *
 * Bundled roots (manifest.json beside this file, from $MODDABLE/modules/crypt/data),
 * for Viam's cloud (app.viam.com): GTS Root R1 (ca233) and R4 (ca236), GlobalSign
 * Root CA (ca22, which cross-signs GTS Root R1), ISRG Root X1 (ca109, Let's Encrypt).
 */
import Resource from "Resource";

export function secureOptions(extraRoots: (ArrayBuffer | Uint8Array)[]): Record<string, unknown> {
  return { protocolVersion: 0x303, certificates: extraRoots };
}

/** The self-hosted cloud's CA, when the build names one (`cloudCa=<resource>.der`, docs/esp32.md). */
export function cloudRoots(cloudCa: string | undefined): ArrayBuffer[] {
  if (!cloudCa) return [];
  if (!Resource.exists(cloudCa)) throw new Error(`cloudCa "${cloudCa}" is not a resource of this build`);
  return [new Resource(cloudCa) as unknown as ArrayBuffer];
}
