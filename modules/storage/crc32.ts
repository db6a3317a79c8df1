/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR
 * 0xFFFFFFFF): the same value zlib's crc32() gives, so host tools can check
 * an image with any library.
 *
 * Slicing-by-8: eight 256-entry tables let the loop fold 8 bytes per
 * iteration with 8 table loads and no per-byte shifts of the running CRC.
 * Under XS the cost is bytecodes, and the byte-at-a-time loop spends ~28
 * computrons per byte; this one ~7 (bench/xs/device-entry.ts meters it via
 * `npm run bench -- device`). The tables (8 KiB) are built when the module
 * loads, so on a device, where the module is preloaded, they are stored in
 * flash with the rest of the program and take no RAM.
 *
 * On ESP32 a native CRC (the ROM's crc32_le) can take over through
 * `setNativeCrc32`; the JavaScript path stays the reference and keeps every
 * lane green.
 */

const TABLES = buildTables();

/** Table k maps a byte to its CRC contribution k bytes further on (table 0: the classic one). */
function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  // Stryker disable next-line EqualityOperator: n <= 256 also writes t[256], which the second loop overwrites (table 1, byte 0) before any use
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // Stryker disable next-line EqualityOperator: n <= 256 starts from t[256] = 0 (byte 0's entry in table 1) and rewrites byte 0's entries of tables 2..7 with their value, 0; table 8 does not exist
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    // Stryker disable next-line EqualityOperator: k <= 8 only adds writes to t[2048 + n], past the end of the Uint32Array, which are ignored
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
}

/**
 * A native CRC-32 update over bytes[start, end) with the same convention as
 * crc32Update (running, un-inverted value in and out), or undefined.
 */
export type NativeCrc32 = (crc: number, bytes: Uint8Array, start: number, end: number) => number;

let nativeCrc: NativeCrc32 | undefined;

/** Route CRC-32 to a native implementation (ESP32 ROM); undefined restores the JavaScript one. */
export function setNativeCrc32(fn: NativeCrc32 | undefined): void {
  nativeCrc = fn;
}

/**
 * Route CRC-32 to `fn` only if it agrees with the JavaScript reference on a
 * check that costs a few hundred computrons (it runs at every boot and wake):
 * "123456789" at an odd offset of a buffer (the convention's check value
 * 0xCBF43926: polynomial, reflection, inversions, offsets) and a chained
 * update across 40 bytes (the running-register convention). Returns "" once
 * installed, else why not: the JavaScript path then stays, since a wrong CRC
 * would make every record look corrupt.
 */
export function adoptNativeCrc32(fn: NativeCrc32): string {
  nativeCrc = undefined;
  const bytes = new Uint8Array(48);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 167 + 13) & 0xff;
  for (let i = 0; i < 9; i++) bytes[3 + i] = 0x31 + i; // "123456789" at offset 3
  try {
    const check = (fn(0xffffffff, bytes, 3, 12) ^ 0xffffffff) >>> 0;
    if (check !== 0xcbf43926) return `its check value is ${check.toString(16)}, not cbf43926`;
    const chained = fn(fn(0x12345678, bytes, 0, 17), bytes, 17, 40);
    const expected = crc32UpdateJs(0x12345678, bytes, 0, 40);
    if (chained !== expected) return `chained updates give ${chained}, the reference ${expected}`;
  } catch (error) {
    return `it threw: ${(error as Error)?.message ?? error}`;
  }
  nativeCrc = fn;
  return "";
}

/** Below this many bytes the JavaScript loop beats the call into native code. */
const NATIVE_MIN_BYTES = 16;

const T0 = TABLES.subarray(0, 256);
const T1 = TABLES.subarray(256, 512);
const T2 = TABLES.subarray(512, 768);
const T3 = TABLES.subarray(768, 1024);
const T4 = TABLES.subarray(1024, 1280);
const T5 = TABLES.subarray(1280, 1536);
const T6 = TABLES.subarray(1536, 1792);
const T7 = TABLES.subarray(1792, 2048);

/*
 * Words are read with a DataView (one native call per 4 bytes instead of four
 * element reads and three shifts). Callers CRC the same few buffers over and
 * over (a store's sector scratch), so the view of the last buffer is kept.
 */
let viewOf: Uint8Array | undefined;
let view: DataView | undefined;

/**
 * Continue a CRC over bytes[start, end). Pass the previous return value as
 * `crc` to chain several ranges; start a new CRC with `crc32Start()`.
 */
export function crc32Update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  if (nativeCrc !== undefined && end - start >= NATIVE_MIN_BYTES) return nativeCrc(crc, bytes, start, end);
  return crc32UpdateJs(crc, bytes, start, end);
}

/** crc32Update's JavaScript path, whatever is installed (the reference; the device bench meters it). */
export function crc32UpdateJs(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = crc | 0;
  let i = start;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator,BlockStatement: speed only; the byte loop after it gives the same CRC for any range (storage-mutants-crc tests every length 0..40 at every start)
  if (end - start >= 16) {
    // Stryker disable next-line ConditionalExpression: `true` only rebuilds the cached view each call (speed, same CRC); `false` is killed, but one disable covers both
    if (viewOf !== bytes) {
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      viewOf = bytes;
    }
    const v = view!;
    const stop8 = end - 7;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: `false` and `i >= stop8` skip the 8-byte steps and the byte loop gives the same CRC; `true` and `<=` are killed, but one disable covers each pair
    while (i < stop8) {
      const lo = c ^ v.getInt32(i, true);
      const hi = v.getInt32(i + 4, true);
      c =
        T7[lo & 0xff]! ^
        T6[(lo >>> 8) & 0xff]! ^
        T5[(lo >>> 16) & 0xff]! ^
        T4[lo >>> 24]! ^
        T3[hi & 0xff]! ^
        T2[(hi >>> 8) & 0xff]! ^
        T1[(hi >>> 16) & 0xff]! ^
        T0[hi >>> 24]!;
      i += 8;
    }
  }
  const t = T0;
  while (i < end) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
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
