/*
 * Constants of the on-flash block format (documented byte by byte in
 * FORMAT.md next to this file). A block is one ring record holding a run of
 * one collector's readings.
 */

/** Byte 0 of a format-1 block (0.1: every number an 8-byte double). Still read. */
export const BLOCK_MAGIC = 0xca;
/** Byte 0 of a format-2 block (integer codes at a step, bit-packed; FORMAT.md). Written since 0.2. */
export const BLOCK_MAGIC_V2 = 0xcb;
/**
 * Byte 0 of a format-3 block: format 2 with every raw 64-bit double (mode F
 * values, raw escapes) starting on a whole byte, so that writer and reader move
 * it with one native call. Written since 0.3.
 */
export const BLOCK_MAGIC_V3 = 0xcc;
/** Fixed header bytes before the varints: magic, kind, flags, u16 count, u32 span. */
export const BLOCK_FIXED_HEADER = 9;
export const OFFSET_KIND = 1;
export const OFFSET_FLAGS = 2;
export const OFFSET_COUNT = 3;
export const OFFSET_SPAN_MS = 5;
/** flags bit 0: times are wall-clock µs since the Unix epoch (else monotonic µs since boot). */
export const FLAG_WALL_BASE = 1;
/** Format 2, flags bit 1: the header's base time is in ms (× 1000 for µs). */
export const FLAG_BASE_MS = 2;
/** Format 2, flags bit 2: the header's first time step is in ms (× 1000 for µs). */
export const FLAG_STEP_MS = 4;
/** Most readings one block may hold (the u16 count). */
export const MAX_BLOCK_READINGS = 0xffff;

/** Readings schema entry kinds. */
export const FIELD_NUMBER = 1;
export const FIELD_BOOL = 2;
export const FIELD_STRING = 3;
export const FIELD_NULL = 4;
export const FIELD_OBJECT = 5;
export const FIELD_END = 6;
export const FIELD_ANY = 7;

/** Most schema entries a Readings map may have (nested objects count their open and close). */
export const MAX_SCHEMA_ENTRIES = 64;
/** Deepest nesting of objects/lists in a Readings map. */
export const MAX_DEPTH = 16;

/** Tags of a self-describing value (FIELD_ANY). */
export const ANY_NULL = 0;
export const ANY_NUMBER = 1;
export const ANY_FALSE = 2;
export const ANY_TRUE = 3;
export const ANY_STRING = 4;
export const ANY_LIST = 5;
export const ANY_OBJECT = 6;

/** Wall-clock values below this (Sep 2020) are treated as "not set", whatever the platform says. */
export const MIN_VALID_WALL_MS = 1.6e12;

/** Format 2 column modes (high nibble of a column descriptor): 0..9 = value is code / 10^mode. */
export const MODE_MAX_DECIMALS = 9;
/** value = code / divisor, the divisor an 8-byte double after the descriptor. */
export const MODE_DIVIDE = 0xa;
/** value = code × multiplier, the multiplier an 8-byte double after the descriptor. */
export const MODE_MULTIPLY = 0xb;
/** every value a raw 64-bit IEEE double in the bit stream (no width, no base). */
export const MODE_RAW = 0xf;
/** Codes are kept below this magnitude so deltas and zigzags stay exact safe integers. */
export const MAX_CODE = 2 ** 50;
/** Widest bit field of a column (wider deltas are escaped). */
export const MAX_WIDTH = 32;
/** Widest time field (time widths share one byte, 4 bits each). */
export const MAX_TIME_WIDTH = 15;
/** Bits of an escape's length field (a long delta of up to 63 bits; deltas stay below 2^52). */
export const ESCAPE_LENGTH_BITS = 6;

/**
 * Format 2 schema names by index: a schema entry byte 0x80 + i is a NUMBER
 * field named NAME_DICTIONARY[i]; 0x40 + kind, i is another kind's entry with
 * that name. Names common in sensor readings, so a Readings block that is
 * flushed every few seconds does not spend most of its bytes on names.
 * Append only: an index, once written to flash, means that name forever.
 */
export const NAME_DICTIONARY: readonly string[] = [
  "temperature",
  "humidity",
  "pressure",
  "battery",
  "voltage",
  "current",
  "power",
  "energy",
  "altitude",
  "gas_resistance",
  "co2",
  "tvoc",
  "pm1_0",
  "pm2_5",
  "pm10",
  "lux",
  "light",
  "distance",
  "value",
  "x",
  "y",
  "z",
  "heading",
  "speed",
  "rssi",
  "level",
  "moisture",
  "ph",
  "count",
  "state",
  "latitude",
  "longitude",
  "temperature_c",
  "temperature_f",
  "relative_humidity",
  "pressure_hpa",
  "pressure_pa",
  "dew_point",
  "uv_index",
  "noise",
];
