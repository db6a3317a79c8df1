/*
 * TLS options for SecureSocket. Moddable verifies the server's chain against
 * CA certificates bundled as resources (`caNNN.der`, found through the
 * `ca.ski` index) and checks the host name and validity dates, so the wall
 * clock must be set (SNTP) before the first handshake.
 *
 * Viam's cloud (app.viam.com): the manifest bundles Google Trust Services
 * roots GTS Root R1 (ca233) and R4 (ca236), GlobalSign Root CA (ca22, which
 * cross-signs GTS Root R1), and ISRG Root X1 (ca109, Let's Encrypt) from
 * $MODDABLE/modules/crypt/data. A self-hosted cloud: build with
 * `cloudCa=<resource name>` and add that DER file to the manifest's resources
 * (docs/esp32.md); it is then trusted in addition to the bundle.
 */
import Resource from "Resource";

export function secureOptions(cloudCa: string | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = { protocolVersion: 0x303 };
  if (cloudCa) options.certificate = new Resource(cloudCa);
  return options;
}
