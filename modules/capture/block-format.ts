/*
 * Constants of the on-flash block format (documented byte by byte in
 * FORMAT.md next to this file). A block is one ring record holding a run of
 * one collector's readings.
 */

export const BLOCK_MAGIC = 0xca;
/** Fixed header bytes before the varints: magic, kind, flags, u16 count, u32 span. */
export const BLOCK_FIXED_HEADER = 9;
export const OFFSET_KIND = 1;
export const OFFSET_FLAGS = 2;
export const OFFSET_COUNT = 3;
export const OFFSET_SPAN_MS = 5;
/** flags bit 0: times are wall-clock µs since the Unix epoch (else monotonic µs since boot). */
export const FLAG_WALL_BASE = 1;
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
