/*
 * The cloud connection both Moddable platforms open: a plain Socket for http://
 * (loopback, or the documented insecure option) and, for https://, SecureSocket
 * with capsync's certificate verifier as the SDK's ssl/cert and the bundled roots
 * plus the build's own CA (`cloudCa`). One function, so the simulator connects
 * exactly as the ESP32 does.
 */
import SecureSocket from "securesocket";
import type { CloudAddress } from "../../app/cloud-address";
import type { OpenByteStream } from "../../app/http1-transport";
import type { Logger } from "../../ports";
import { openSocketStream } from "./socket-stream";
import { cloudRoots, secureOptions } from "./tls/secure-options";

/**
 * `openStream` for the firmware's ports. `cloudCa` is the build's PEM (or
 * undefined); a bad one is logged and only the bundled roots are trusted.
 * `beforeConnect` runs before each connection (lin: SIGPIPE handling).
 */
export function cloudStreamOpener(
  cloudCa: unknown,
  log: Logger,
  beforeConnect?: () => void,
): (address: CloudAddress) => OpenByteStream {
  let extraRoots: ArrayBuffer[] = [];
  try {
    extraRoots = cloudRoots(typeof cloudCa === "string" && cloudCa !== "" ? cloudCa : undefined);
  } catch (error) {
    log.error(`tls: ${(error as Error).message}; trusting only the bundled roots`);
  }
  return (address) => (handler) => {
    beforeConnect?.();
    return openSocketStream(
      address.secure
        ? {
            host: address.host,
            port: address.port,
            secure: secureOptions(extraRoots),
            SecureSocket: SecureSocket as unknown as new (dictionary: Record<string, unknown>) => unknown,
          }
        : { host: address.host, port: address.port },
      handler,
    );
  };
}
