/*
 * Routes the store's CRC-32 to native code (crc32.c: the ESP32 ROM's
 * crc32_le on the device, a C table on the simulator). Called once at start,
 * never at preload (the hook in modules/storage/crc32.ts is set at run time),
 * and only after the native function agreed with the JavaScript reference
 * (adoptNativeCrc32); otherwise the JavaScript CRC stays and the reason is logged.
 */
import { crc32Update } from "capsync/crc32";
import type { Logger } from "../../../ports";
import { adoptNativeCrc32 } from "../../../storage/crc32";

/** true when the native CRC-32 is in use. */
export function useNativeCrc32(log: Logger): boolean {
  const refused = adoptNativeCrc32(crc32Update);
  if (refused !== "") log.warn(`crc32: native CRC-32 not used (${refused}); the JavaScript one stays`);
  else log.info("crc32: native CRC-32 in use");
  return refused === "";
}
