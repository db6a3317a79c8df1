/*
 * A strict DER reader over one Uint8Array: tag, definite length, value
 * bounds. Nothing is copied: values are subarrays of the input. Every length
 * is checked against its parent's end, so a truncated or lying certificate
 * throws a DerError instead of reading past the buffer.
 *
 * Only what X.509 needs: single-byte tags (no high-tag-number form), lengths
 * up to 4 bytes, no indefinite lengths (DER forbids them).
 */

export class DerError extends Error {}

export interface DerElement {
  tag: number;
  /** Offset of the tag byte in the input. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

export class DerReader {
  readonly bytes: Uint8Array;
  position: number;
  readonly limit: number;

  constructor(bytes: Uint8Array, start = 0, limit = bytes.length) {
    this.bytes = bytes;
    this.position = start;
    this.limit = limit;
  }

  get done(): boolean {
    return this.position >= this.limit;
  }

  /** The next element's tag without consuming it (-1 at the end). */
  peekTag(): number {
    return this.position < this.limit ? this.bytes[this.position]! : -1;
  }

  next(expectedTag?: number): DerElement {
    const bytes = this.bytes;
    const start = this.position;
    if (start + 2 > this.limit) throw new DerError("truncated element");
    const tag = bytes[start]!;
    if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used in X.509");
    if (expectedTag !== undefined && tag !== expectedTag) {
      throw new DerError(`expected tag 0x${expectedTag.toString(16)}, found 0x${tag.toString(16)}`);
    }
    let length = bytes[start + 1]!;
    let valueStart = start + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4) throw new DerError("indefinite or oversized length");
      if (valueStart + count > this.limit) throw new DerError("truncated length");
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[valueStart + i]!;
      valueStart += count;
      if (length < 0x80 || (count > 1 && bytes[start + 2] === 0)) throw new DerError("non-minimal length");
    }
    const end = valueStart + length;
    if (end > this.limit) throw new DerError("element runs past its container");
    this.position = end;
    return { tag, start, valueStart, end };
  }

  /** A reader over the value of the next element (a SEQUENCE, SET or context tag). */
  enter(expectedTag: number): DerReader {
    const element = this.next(expectedTag);
    return new DerReader(this.bytes, element.valueStart, element.end);
  }

  value(element: DerElement): Uint8Array {
    return this.bytes.subarray(element.valueStart, element.end);
  }

  /** The whole encoding (tag, length, value) of an element. */
  encoding(element: DerElement): Uint8Array {
    return this.bytes.subarray(element.start, element.end);
  }

  expectEnd(what: string): void {
    if (this.position !== this.limit) throw new DerError(`unexpected data after ${what}`);
  }
}

export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_SEQUENCE = 0x30;

/** Dotted text of an OBJECT IDENTIFIER value ("1.2.840.113549.1.1.11"). */
export function oidText(value: Uint8Array): string {
  if (value.length === 0) throw new DerError("empty OID");
  let text = "";
  let n = 0;
  let first = true;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    if (n === 0 && byte === 0x80) throw new DerError("non-minimal OID");
    n = n * 128 + (byte & 0x7f);
    if (n > 0xffffffff) throw new DerError("OID arc too large");
    if (byte & 0x80) continue;
    if (first) {
      const top = n < 40 ? 0 : n < 80 ? 1 : 2;
      text = `${top}.${n - top * 40}`;
      first = false;
    } else {
      text += `.${n}`;
    }
    n = 0;
  }
  if (value[value.length - 1]! & 0x80) throw new DerError("truncated OID");
  return text;
}

/** The bits of a BIT STRING value, without its unused-bits byte (which must be 0 for keys and signatures). */
export function bitStringBytes(value: Uint8Array): Uint8Array {
  if (value.length === 0 || value[0] !== 0) throw new DerError("BIT STRING with unused bits");
  return value.subarray(1);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Milliseconds since the epoch of a UTCTime ("YYMMDDHHMMSSZ", years 1950-2049)
 * or GeneralizedTime ("YYYYMMDDHHMMSSZ"), the two forms RFC 5280 allows.
 */
export function parseTime(tag: number, value: Uint8Array): number {
  const long = tag === TAG_GENERALIZED_TIME;
  if (!long && tag !== TAG_UTC_TIME) throw new DerError("validity is not a time");
  const size = long ? 15 : 13;
  if (value.length !== size || value[size - 1] !== 0x5a /* Z */) throw new DerError("time not in Zulu form");
  const digits = (from: number, count: number): number => {
    let n = 0;
    for (let i = from; i < from + count; i++) {
      const d = value[i]! - 0x30;
      if (d < 0 || d > 9) throw new DerError("time with a non-digit");
      n = n * 10 + d;
    }
    return n;
  };
  let year: number;
  let at: number;
  if (long) {
    year = digits(0, 4);
    at = 4;
  } else {
    year = digits(0, 2);
    year += year < 50 ? 2000 : 1900;
    at = 2;
  }
  const month = digits(at, 2);
  const day = digits(at + 2, 2);
  const hour = digits(at + 4, 2);
  const minute = digits(at + 6, 2);
  const second = digits(at + 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new DerError("time out of range");
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}
