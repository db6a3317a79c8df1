/*
 * Platform-free decoding of what capture's transcoder writes, for tests in
 * both lanes (protobuf-es is the authority in the Node lane; this is the
 * same check where protobuf-es is not loaded). Decodes a run of
 * length-delimited SensorData fields into plain objects.
 */

export interface DecodedSensorData {
  /** µs since the epoch. */
  requestedUs: number;
  receivedUs: number;
  payload: Record<string, unknown>;
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  more(): boolean {
    return this.pos < this.end;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  }
  sub(): Reader {
    const length = this.varint();
    if (this.pos + length > this.end) throw new Error("truncated message");
    const r = new Reader(this.bytes, this.pos, this.pos + length);
    this.pos += length;
    return r;
  }
  double(): number {
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
  string(): string {
    const r = this.sub();
    return new TextDecoder().decode(this.bytes.subarray(r.pos, r.end));
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire}`);
  }
}

function timestampUs(r: Reader): number {
  let seconds = 0;
  let nanos = 0;
  while (r.more()) {
    const tag = r.varint();
    if (tag === 8) seconds = r.varint();
    else if (tag === 16) nanos = r.varint();
    else r.skip(tag & 7);
  }
  return seconds * 1e6 + nanos / 1000;
}

function struct(r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (r.more()) {
    const tag = r.varint();
    if (tag !== 10) {
      r.skip(tag & 7);
      continue;
    }
    const entry = r.sub();
    let key = "";
    let value: unknown = null;
    while (entry.more()) {
      const t = entry.varint();
      if (t === 10) key = entry.string();
      else if (t === 18) value = decodeValue(entry.sub());
      else entry.skip(t & 7);
    }
    out[key] = value;
  }
  return out;
}

function decodeValue(r: Reader): unknown {
  let value: unknown = null;
  while (r.more()) {
    const tag = r.varint();
    switch (tag) {
      case 8:
        r.varint();
        value = null;
        break;
      case 17:
        value = r.double();
        break;
      case 26:
        value = r.string();
        break;
      case 32:
        value = r.varint() !== 0;
        break;
      case 42:
        value = struct(r.sub());
        break;
      case 50: {
        const list = r.sub();
        const items: unknown[] = [];
        while (list.more()) {
          const t = list.varint();
          if (t === 10) items.push(decodeValue(list.sub()));
          else list.skip(t & 7);
        }
        value = items;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

/** Decode every length-delimited field number `field` in `bytes` as a SensorData. */
export function decodeSensorDataFields(bytes: Uint8Array, field: number): DecodedSensorData[] {
  const out: DecodedSensorData[] = [];
  const r = new Reader(bytes);
  while (r.more()) {
    const tag = r.varint();
    if (tag !== field * 8 + 2) {
      r.skip(tag & 7);
      continue;
    }
    const message = r.sub();
    const item: DecodedSensorData = { requestedUs: 0, receivedUs: 0, payload: {} };
    while (message.more()) {
      const t = message.varint();
      if (t === 10) {
        const metadata = message.sub();
        while (metadata.more()) {
          const m = metadata.varint();
          if (m === 10) item.requestedUs = timestampUs(metadata.sub());
          else if (m === 18) item.receivedUs = timestampUs(metadata.sub());
          else metadata.skip(m & 7);
        }
      } else if (t === 18) item.payload = struct(message.sub());
      else message.skip(t & 7);
    }
    out.push(item);
  }
  return out;
}
