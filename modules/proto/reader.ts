/*
 * ProtoReader: bounded protobuf wire-format decoding over a byte view.
 *
 * Everything a hostile peer controls is checked before it is trusted: every
 * length is compared with the bytes that remain (so a "4 GiB" prefix costs
 * nothing), varints longer than 10 bytes are rejected, group wire types are
 * refused, and nesting is counted by the callers through `enter`/`leave`
 * against `maxDepth`. Every failure is a ProtoDecodeError naming what was wrong
 * and where, never a RangeError from a typed array or a hang.
 */

import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from "./writer";

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "ProtoDecodeError" });
  }
}

const TWO_32 = 4294967296;

/** Default nesting limit (Struct inside Struct inside …): ample for configs, small enough for the device stack. */
export const DEFAULT_MAX_DEPTH = 32;

/**
 * Default limit on decoded values (Struct values, resources, list items) per
 * message. Output size is already bounded by input size, but a 64 KiB body of
 * 2-byte empty lists would still become tens of thousands of JS objects, more
 * than a device heap holds; real configs decode to a few hundred.
 */
export const DEFAULT_MAX_VALUES = 4096;

export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  /** Exclusive end of the message being read. */
  end: number;
  /** Field number of the last tag read. */
  field = 0;
  /** Wire type of the last tag read. */
  wireType = 0;
  private depth = 0;
  readonly maxDepth: number;
  /** Decoded values still allowed (see DEFAULT_MAX_VALUES). */
  valuesLeft: number;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH, maxValues = DEFAULT_MAX_VALUES) {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.maxDepth = maxDepth;
    this.valuesLeft = maxValues;
  }

  /** Count one decoded value against the budget; throws once it is spent. */
  spend(): void {
    if (--this.valuesLeft < 0) this.fail("too many values in one message");
  }

  fail(message: string): never {
    throw new ProtoDecodeError(`${message} (at byte ${this.pos})`);
  }

  /** True while the current message has bytes left. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Read the next tag into `field`/`wireType`; returns the field number. */
  tag(): number {
    const key = this.varint();
    const wireType = key % 8;
    const field = Math.floor(key / 8);
    if (field < 1 || field > 536870911) this.fail(`invalid field number ${field}`);
    if (wireType !== WIRE_VARINT && wireType !== WIRE_I64 && wireType !== WIRE_LEN && wireType !== WIRE_I32) {
      this.fail(`unsupported wire type ${wireType} for field ${field}`);
    }
    this.field = field;
    this.wireType = wireType;
    return field;
  }

  /** Unsigned varint as a number (exact up to 2^53; larger values lose low bits, as int64 → number does). */
  varint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) {
        this.pos = pos;
        this.fail("truncated varint");
      }
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      scale *= 128;
    }
    this.pos = pos;
    return this.fail("varint longer than 10 bytes");
  }

  /** int32/int64 varint as a signed number (two's complement on 64 bits; exact within ±2^53). */
  int64(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0x80;
    for (let shift = 0; shift < 28 && b >= 0x80; shift += 7) {
      if (pos >= end) this.fail("truncated varint");
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
    }
    if (b >= 0x80) {
      if (pos >= end) this.fail("truncated varint");
      b = buf[pos++]!;
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >> 4;
      for (let shift = 3; shift < 32 && b >= 0x80; shift += 7) {
        if (pos >= end) this.fail("truncated varint");
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
      }
      if (b >= 0x80) {
        this.pos = pos;
        this.fail("varint longer than 10 bytes");
      }
    }
    this.pos = pos;
    lo >>>= 0;
    if (hi & 0x80000000) {
      // Negative: magnitude is the two's complement of hi:lo.
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      return -(nhi * TWO_32 + nlo);
    }
    return (hi >>> 0) * TWO_32 + lo;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  double(): number {
    if (this.end - this.pos < 8) this.fail("truncated double");
    if (this.view === undefined)
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Read a length prefix and return the (checked) end of that payload; `pos` is at its start. */
  lengthEnd(): number {
    const length = this.varint();
    if (length > this.end - this.pos)
      this.fail(`length ${length} exceeds the ${this.end - this.pos} bytes left`);
    return this.pos + length;
  }

  /** A length-delimited payload as a view into the input (no copy). */
  bytes(): Uint8Array {
    const end = this.lengthEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    const end = this.lengthEnd();
    const s = readUtf8(this.buf, this.pos, end);
    this.pos = end;
    return s;
  }

  /**
   * Enter a length-delimited sub-message: narrows `end` to it and returns the
   * outer end to pass to `leave`. Counts depth against `maxDepth`.
   */
  enter(): number {
    if (this.depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    const end = this.lengthEnd();
    const outer = this.end;
    this.end = end;
    this.depth++;
    return outer;
  }

  leave(outerEnd: number): void {
    if (this.pos !== this.end) this.fail("sub-message not fully read");
    this.end = outerEnd;
    this.depth--;
  }

  /** Check the last tag's wire type; a known field with the wrong type is malformed. */
  expect(wireType: number): void {
    if (this.wireType !== wireType) {
      this.fail(`field ${this.field} has wire type ${this.wireType}, expected ${wireType}`);
    }
  }

  /** Skip the value of the last tag (an unknown field). */
  skip(): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        if (this.end - this.pos < 8) this.fail("truncated fixed64");
        this.pos += 8;
        return;
      case WIRE_I32:
        if (this.end - this.pos < 4) this.fail("truncated fixed32");
        this.pos += 4;
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd();
        return;
      default:
        this.fail(`cannot skip wire type ${this.wireType}`);
    }
  }
}

/**
 * Decode UTF-8 like TextDecoder without `fatal` (invalid sequences become
 * U+FFFD). Hand-written because the device has no global TextDecoder.
 */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  let out = "";
  let chunk: number[] | undefined;
  let pos = start;
  // ASCII fast path without an intermediate array.
  while (pos < end && buf[pos]! < 0x80) pos++;
  if (pos === end) return asciiSlice(buf, start, end);
  out = asciiSlice(buf, start, pos);
  chunk = [];
  while (pos < end) {
    const b = buf[pos++]!;
    let cp = 0xfffd;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf) {
      if (pos < end && (buf[pos]! & 0xc0) === 0x80) cp = ((b & 0x1f) << 6) | (buf[pos++]! & 0x3f);
    } else if (b >= 0xe0 && b <= 0xef) {
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf;
      if (pos < end && buf[pos]! >= lo && buf[pos]! <= hi) {
        const b1 = buf[pos++]!;
        if (pos < end && (buf[pos]! & 0xc0) === 0x80) {
          cp = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (buf[pos++]! & 0x3f);
        }
      }
    } else if (b >= 0xf0 && b <= 0xf4) {
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (pos < end && buf[pos]! >= lo && buf[pos]! <= hi) {
        const b1 = buf[pos++]!;
        if (pos < end && (buf[pos]! & 0xc0) === 0x80) {
          const b2 = buf[pos++]!;
          if (pos < end && (buf[pos]! & 0xc0) === 0x80) {
            cp = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (buf[pos++]! & 0x3f);
          }
        }
      }
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else chunk.push(cp);
    if (chunk.length >= APPLY_CHUNK) {
      out += String.fromCharCode.apply(null, chunk);
      chunk.length = 0;
    }
  }
  if (chunk.length > 0) out += String.fromCharCode.apply(null, chunk);
  return out;
}

/**
 * Characters per `String.fromCharCode.apply`: every argument is a slot on the
 * XS stack, and the device's stack is 768 slots (boards/esp32-common.json), so 4096 at
 * once overflowed it on any string over ~1000 characters.
 */
const APPLY_CHUNK = 256;

function asciiSlice(buf: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i += APPLY_CHUNK) {
    out += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(end, i + APPLY_CHUNK)) as unknown as number[],
    );
  }
  return out;
}
