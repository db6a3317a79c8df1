/* Native CRC-32 update (crc32.c); crc32.d.ts types it. */
export function crc32Update(crc, bytes, start, end) @ "xs_capsync_crc32_update";
