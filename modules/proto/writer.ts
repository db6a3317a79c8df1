/*
 * ProtoWriter: protobuf wire-format encoding into one reusable buffer.
 *
 * Allocation-lean by construction: the buffer is allocated once (and grown by
 * doubling only if a message outgrows it), strings are UTF-8 encoded in place,
 * and nested messages are written without encoding them twice: `begin(field)`
 * reserves the longest length prefix a message of this writer could need, and
 * `end(mark)` writes the real length and closes the gap. `finish()` returns a
 * view into the buffer, valid until the next `reset()`.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;

export class ProtoWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** The bytes written so far (a view; copy it if it must outlive the next reset). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Unsigned varint for 0 ≤ value ≤ 2^53 (protobuf int64/uint64 of safe integers). */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (value < 0) {
      // Negative int32/int64: two's complement on 64 bits, always 10 bytes.
      let lo = value >>> 0;
      let hi = Math.floor(value / TWO_32) >>> 0;
      for (let i = 0; i < 9; i++) {
        buf[pos++] = (lo & 0x7f) | 0x80;
        lo = ((lo >>> 7) | (hi << 25)) >>> 0;
        hi >>>= 7;
      }
      buf[pos++] = lo & 0x01;
      this.pos = pos;
      return;
    }
    while (value >= 0x80) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  uint(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, WIRE_VARINT);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Raw bytes (already a complete encoding) with no tag. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  bytes(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_LEN);
    const n = value.length;
    // Fast path: ASCII strings need no length pre-pass.
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(n);
      this.ensure(n);
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = value.charCodeAt(i);
      this.pos = pos;
      return;
    }
    const length = utf8Length(value);
    this.varint(length);
    this.ensure(length);
    this.pos = writeUtf8(value, this.buf, this.pos);
  }

  /**
   * Start a length-delimited sub-message for `field`; returns a mark for `end`.
   * Reserves 5 prefix bytes (enough for any message < 4 GiB).
   */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(5);
    this.pos += 5;
    return this.pos;
  }

  /** Close the sub-message opened by `begin`, writing its length and closing the gap. */
  end(mark: number): void {
    const length = this.pos - mark;
    let prefix = 1;
    for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) prefix++;
    const start = mark - 5;
    if (prefix < 5) this.buf.copyWithin(start + prefix, mark, this.pos);
    let pos = start;
    let v = length;
    while (v >= 0x80) {
      this.buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[pos] = v;
    this.pos = start + prefix + length;
  }
}

export function utf8Length(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/** Encode `value` as UTF-8 into `buf` at `pos` (lone surrogates become U+FFFD); returns the new position. */
export function writeUtf8(value: string, buf: Uint8Array, pos: number): number {
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
      continue;
    }
    if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        buf[pos++] = 0xf0 | (cp >> 18);
        buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[pos++] = 0x80 | (cp & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    buf[pos++] = 0xe0 | (c >> 12);
    buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
    buf[pos++] = 0x80 | (c & 0x3f);
  }
  return pos;
}
