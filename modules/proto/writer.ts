/*
 * ProtoWriter: protobuf wire-format encoding into one reusable buffer.
 *
 * Allocation-lean by construction: the buffer is allocated once, strings are
 * UTF-8 encoded in place,
 * and nested messages are written without encoding them twice: `begin(field)`
 * reserves a one-byte length prefix and `end(mark)` fills it in, widening it
 * (one copy of the body) only for messages of 128 bytes or more. `finish()`
 * returns a view into the buffer, valid until the next `reset()`.
 *
 * Two kinds of buffer: a growable one (host tools, small control messages:
 * grows by doubling when a message outgrows it) and a fixed one
 * (`{ fixed: true }`, the device's upload request): it never grows, and a
 * write that does not fit throws WriterFullError before touching the buffer,
 * so the caller can roll back to an earlier `pos` and send what fits. A fixed
 * buffer is sized once from a bounded budget (see upload.ts) and changes size
 * only through `resize`, between requests.
 *
 * The common cases (tags and lengths under 128, short ASCII keys) take
 * straight-line fast paths: under XS, calls and float divisions per reading
 * are what an encoder's time is made of (see bench/wire.bench.ts).
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;

/** A fixed ProtoWriter ran out of room; nothing of the write that threw was written. */
export class WriterFullError extends RangeError {
  constructor(need: number, capacity: number) {
    super(`proto: ${need} bytes needed, the fixed buffer holds ${capacity}`);
    // Defined, not assigned: Moddable freezes Error.prototype (the "override mistake").
    Object.defineProperty(this, "name", { value: "WriterFullError" });
  }
}

export interface ProtoWriterOptions {
  /** Never grow: throw WriterFullError instead. */
  fixed?: boolean;
}

export class ProtoWriter {
  private buf: Uint8Array;
  private view: DataView;
  private readonly fixed: boolean;
  pos = 0;
  /**
   * Set when a fixed writer refused a write (WriterFullError); cleared by
   * `reset`. Callers that roll back clear it themselves. It survives code that
   * wraps the error in its own (a decoder reporting "malformed block").
   */
  overflowed = false;

  constructor(capacity = 1024, options: ProtoWriterOptions = {}) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.fixed = options.fixed === true;
  }

  /** Bytes the buffer holds. */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * Replace the buffer with one of exactly `capacity` bytes (contents are
   * dropped: call between messages). For a fixed writer whose budget changed.
   */
  resize(capacity: number): void {
    if (capacity === this.buf.length) return;
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  reset(): this {
    this.pos = 0;
    this.overflowed = false;
    return this;
  }

  /** The bytes written so far (a view; copy it if it must outlive the next reset). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    if (this.fixed) {
      this.overflowed = true;
      throw new WriterFullError(need, this.buf.length);
    }
    let size = this.buf.length * 2 || 16;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Unsigned varint for 0 ≤ value ≤ 2^53 (protobuf int64/uint64 of safe integers). */
  varint(value: number): void {
    // Fast paths first: on XS every division and call shows up per reading.
    // Near the end of the buffer, ask for what this value takes (a fixed buffer must not refuse a
    // 1-byte varint because 10 bytes are not left).
    if (this.pos + 10 > this.buf.length)
      this.ensure(value >= 0 && value <= 0xffffffff ? varint32Size(value) : 10);
    const buf = this.buf;
    let pos = this.pos;
    if (value >= 0 && value < 0x80) {
      buf[pos] = value;
      this.pos = pos + 1;
      return;
    }
    if (value >= 0 && value <= 0xffffffff) {
      // Bit operations are exact below 2^32 (>>> works on the unsigned 32-bit value).
      while (value >= 0x80) {
        buf[pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      buf[pos++] = value;
      this.pos = pos;
      return;
    }
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
    const key = field * 8 + wireType;
    if (key < 0x80) {
      if (this.pos >= this.buf.length) this.ensure(1);
      this.buf[this.pos++] = key;
      return;
    }
    this.varint(key);
  }

  uint(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, WIRE_VARINT);
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_I64);
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /**
   * Make room for `n` more bytes and return the buffer to write them into at
   * `pos` (the caller advances `pos`). For hand-unrolled hot paths such as
   * StructWriter's; the buffer is valid until the next call that may grow it.
   */
  reserve(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) this.ensure(n);
    return this.buf;
  }

  /** The DataView over the current buffer (after `reserve`), for writing doubles in place. */
  get dataView(): DataView {
    return this.view;
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
    // Fast path for short strings: assume ASCII and write prefix + bytes in one pass,
    // within the room the buffer already has; on the first non-ASCII character, the
    // 128th character or the end of that room, rewind and take the general path.
    const buf = this.buf;
    const start = this.pos;
    const room = buf.length - start - 1;
    const stop = room < 0x7f ? room : 0x7f;
    let pos = start + 1;
    for (let i = 0; i <= stop; i++) {
      const c: number = charCodeAt.call(value, i);
      // biome-ignore lint/suspicious/noSelfCompare: NaN marks the end of the string without reading .length
      if (c !== c) {
        buf[start] = i;
        this.pos = pos;
        return;
      }
      if (c > 0x7f || i === stop) break;
      buf[pos++] = c;
    }
    const length = utf8Length(value);
    this.varint(length);
    this.ensure(length);
    this.pos = encodeUtf8(value, this.buf, this.pos, this.pos + length);
  }

  /**
   * Start a length-delimited sub-message for `field`; returns a mark for `end`.
   * Reserves one prefix byte, enough for the sub-128-byte messages that make up
   * nearly everything a device writes; `end` widens the prefix (shifting the
   * body) only for longer ones. Marks stay valid for properly nested
   * begin/end pairs and for rolling back with `pos = <earlier pos>`.
   */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    if (this.pos >= this.buf.length) this.ensure(1);
    this.pos += 1;
    return this.pos;
  }

  /** Close the sub-message opened by `begin`, writing its length. */
  end(mark: number): void {
    const length = this.pos - mark;
    if (length < 0x80) {
      this.buf[mark - 1] = length;
      return;
    }
    let prefix = 1;
    for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) prefix++;
    this.ensure(prefix - 1);
    const buf = this.buf;
    buf.copyWithin(mark + prefix - 1, mark, this.pos);
    let pos = mark - 1;
    let v = length;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos] = v;
    this.pos += prefix - 1;
  }
}

/*
 * On XS, `s.length` and `s.charCodeAt(i)` on a primitive string allocate a
 * String wrapper object per call (measured: 2 heap slots each), while calling
 * the prototype's function with the string as `this` allocates nothing. The
 * string code here therefore walks strings with charCodeAt.call until NaN.
 */
const charCodeAt = String.prototype.charCodeAt;

/** `value.length > n`, without the String wrapper XS allocates to read `.length`. */
export function longerThan(value: string, n: number): boolean {
  const c: number = charCodeAt.call(value, n);
  // biome-ignore lint/suspicious/noSelfCompare: NaN: no character at n
  return c === c;
}

/** Bytes of `value` in UTF-8 (a lone surrogate counts as U+FFFD: 3 bytes). */
export function utf8Length(value: string): number {
  let length = 0;
  for (let i = 0; ; i++) {
    const c: number = charCodeAt.call(value, i);
    // biome-ignore lint/suspicious/noSelfCompare: NaN marks the end of the string without reading .length
    if (c !== c) return length;
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d: number = charCodeAt.call(value, i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
}

/**
 * UTF-8 encode `value` into `buf` from `pos`, writing nothing at or past
 * `limit`; returns the end position, or -1 if it does not fit (bytes before
 * the character that did not fit may have been written). Lone surrogates
 * become U+FFFD. Allocates nothing, also under XS.
 */
export function encodeUtf8(value: string, buf: Uint8Array, pos: number, limit: number): number {
  if (limit > buf.length) limit = buf.length;
  for (let i = 0; ; i++) {
    let c: number = charCodeAt.call(value, i);
    // biome-ignore lint/suspicious/noSelfCompare: NaN marks the end of the string without reading .length
    if (c !== c) return pos;
    if (c < 0x80) {
      if (pos >= limit) return -1;
      buf[pos++] = c;
      continue;
    }
    if (c < 0x800) {
      if (pos + 2 > limit) return -1;
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d: number = charCodeAt.call(value, i + 1);
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        if (pos + 4 > limit) return -1;
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
    if (pos + 3 > limit) return -1;
    buf[pos++] = 0xe0 | (c >> 12);
    buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
    buf[pos++] = 0x80 | (c & 0x3f);
  }
}

/**
 * Encode `value` as UTF-8 into `buf` at `pos` (lone surrogates become U+FFFD);
 * returns the new position. The caller sized `buf` with utf8Length; a string
 * that does not fit is a RangeError, never a silently truncated one.
 */
export function writeUtf8(value: string, buf: Uint8Array, pos: number): number {
  const end = encodeUtf8(value, buf, pos, buf.length);
  if (end < 0) throw new RangeError("writeUtf8: the string does not fit in the buffer");
  return end;
}

/** Write `value` (0 ≤ value < 2^32) as a varint at `pos` in `buf` (room already reserved); returns the new position. */
export function putVarint32(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/** Bytes a varint of `value` (0 ≤ value < 2^32) takes. */
export function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}
