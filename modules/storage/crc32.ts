/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR
 * 0xFFFFFFFF): the same value zlib's crc32() gives, so host tools can check
 * an image with any library. The 1 KiB table is built once on first use.
 */

let table: Uint32Array | undefined;

function buildTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * Continue a CRC over bytes[start, end). Pass the previous return value as
 * `crc` to chain several ranges; start a new CRC with `crc32Start()`.
 */
export function crc32Update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  if (!table) table = buildTable();
  const t = table;
  let c = crc;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

export function crc32Start(): number {
  return 0xffffffff;
}

export function crc32Finish(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Finish(crc32Update(crc32Start(), bytes, start, end));
}
