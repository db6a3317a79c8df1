/* Types of the native module crc32.c (modules/platform/moddable/crc32). */
declare module "capsync/crc32" {
  /** CRC-32 update over bytes[start, end): running register in and out, as modules/storage/crc32.ts. */
  export function crc32Update(crc: number, bytes: Uint8Array, start: number, end: number): number;
}
