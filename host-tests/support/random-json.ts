// Seeded random JSON-ish values for codec property tests (platform-free: usable by core tests in both lanes).
import type { Random } from "../harness/random";

const KEY_POOL = [
  "readings",
  "x",
  "y",
  "z",
  "temp",
  "value",
  "a_b",
  "Ω",
  "ключ",
  "😀",
  "",
  "12",
  "3",
  "long_key_".repeat(20),
];

/** A string drawn from ASCII, 2-, 3- and 4-byte UTF-8 ranges (and, if `loneSurrogates`, unpaired surrogates). */
export function randomString(rng: Random, maxLength = 12, loneSurrogates = false): string {
  const n = rng.int(maxLength + 1);
  let s = "";
  for (let i = 0; i < n; i++) {
    const kind = rng.int(loneSurrogates ? 6 : 5);
    if (kind <= 1) s += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (kind === 2) s += String.fromCharCode(0x80 + rng.int(0x780));
    else if (kind === 3) s += String.fromCharCode(0x800 + rng.int(0xd000));
    else if (kind === 4) s += String.fromCodePoint(0x10000 + rng.int(0xfffff));
    else s += String.fromCharCode(0xd800 + rng.int(0x800));
  }
  return s;
}

export function randomKey(rng: Random): string {
  return rng.int(3) === 0 ? randomString(rng, 10) : rng.pick(KEY_POOL);
}

const SPECIAL_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1e-310,
  5e-324,
  1.7976931348623157e308,
  -1e21,
  2 ** 53,
  2 ** 53 + 2,
];

export function randomNumber(rng: Random): number {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(SPECIAL_NUMBERS);
    case 1:
      return rng.int(2000) - 1000;
    case 2:
      return (rng.float() - 0.5) * 10 ** (rng.int(40) - 20);
    default: {
      // Arbitrary bit patterns that are finite doubles.
      const v = new DataView(new ArrayBuffer(8));
      v.setUint32(0, rng.u32());
      v.setUint32(4, rng.u32());
      const d = v.getFloat64(0);
      return Number.isFinite(d) ? d : rng.float();
    }
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function randomValue(rng: Random, depth: number): Json {
  const kind = rng.int(depth > 0 ? 6 : 4);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.int(2) === 0;
    case 2:
      return randomNumber(rng);
    case 3:
      return randomString(rng);
    case 4:
      return randomObject(rng, depth - 1);
    default: {
      const n = rng.int(5);
      const list: Json[] = [];
      for (let i = 0; i < n; i++) list.push(randomValue(rng, depth - 1));
      return list;
    }
  }
}

export function randomObject(rng: Random, depth: number, maxKeys = 5): { [key: string]: Json } {
  const n = rng.int(maxKeys + 1);
  const out: { [key: string]: Json } = {};
  for (let i = 0; i < n; i++) {
    const key = randomKey(rng);
    if (key === "__proto__") continue;
    out[key] = randomValue(rng, depth);
  }
  return out;
}

/** Epoch ms: mostly recent whole milliseconds, sometimes 0, pre-1970 or far future. */
export function randomEpochMs(rng: Random): number {
  switch (rng.int(6)) {
    case 0:
      return 0;
    case 1:
      return -rng.int(2 ** 31) * 1000 - rng.int(1000);
    case 2:
      return 253402300799000 - rng.int(1000000);
    default:
      return 1700000000000 + rng.int(2 ** 31);
  }
}
