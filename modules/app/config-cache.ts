/*
 * The last good machine config, kept in its own small flash region so the
 * device can capture from it at the next boot before (or without) any network.
 *
 * The region is split into two equal slots written alternately; a save never
 * touches the slot holding the current config, so a power cut during a save
 * leaves the previous config readable. Slot format (little-endian):
 *
 *   0  u32 magic 0x46435343 ("CSCF")
 *   4  u32 generation (higher wins; the other slot is the older one)
 *   8  u32 payload length in bytes
 *  12  u32 CRC-32 (IEEE) of the payload
 *  16  payload: the config as UTF-8 JSON
 *
 * The payload is programmed before the header, so a torn save leaves a header
 * that is still erased (0xFF…, not the magic) or one whose CRC fails: load()
 * skips that slot and returns the other one.
 */
import type { FlashPort } from "../ports";
import { readUtf8 } from "../proto/reader";
import { utf8Length, writeUtf8 } from "../proto/writer";
import { crc32 } from "../storage/crc32";

export interface ConfigCache {
  /** The most recently saved config text, or undefined when none survives. */
  load(): string | undefined;
  /** Save `text` as the new last good config. Throws when it does not fit a slot. */
  save(text: string): void;
}

const MAGIC = 0x46435343;
const HEADER_BYTES = 16;

export class FlashConfigCache implements ConfigCache {
  private readonly flash: FlashPort;
  private readonly slotBytes: number;
  private readonly sectorsPerSlot: number;
  /** Generation of the newest valid slot (0 when none) and its index. */
  private generation = 0;
  private newest = -1;
  /** Slots whose content failed a check at the last load (tests and logs). */
  corruptSlots = 0;

  constructor(flash: FlashPort) {
    if (flash.size < 2 * flash.sectorSize || flash.size % (2 * flash.sectorSize) !== 0) {
      throw new RangeError(`config cache needs an even number of sectors (≥ 2), got ${flash.size} bytes`);
    }
    this.flash = flash;
    this.slotBytes = flash.size / 2;
    this.sectorsPerSlot = this.slotBytes / flash.sectorSize;
  }

  /** Largest config text (in UTF-8 bytes) a slot holds. */
  get capacityBytes(): number {
    return this.slotBytes - HEADER_BYTES;
  }

  /**
   * Only the payload that wins is read and CRC-checked: the headers say which
   * slot is newer, and the older slot is read only when the newer one fails
   * its check. A wake from deep sleep loads the config every time, so this
   * halves its flash reads and CRC work (docs/power.md).
   */
  load(): string | undefined {
    this.generation = 0;
    this.newest = -1;
    this.corruptSlots = 0;
    const a = this.readHeader(0);
    const b = this.readHeader(1);
    if (a === null) this.corruptSlots++;
    if (b === null) this.corruptSlots++;
    const order = headerGeneration(b) > headerGeneration(a) ? [b, a] : [a, b];
    for (const header of order) {
      if (!header) continue;
      const payload = this.readPayload(header);
      if (payload === null) {
        this.corruptSlots++;
        continue;
      }
      this.generation = header.generation;
      this.newest = header.slot;
      return decodeUtf8(payload);
    }
    return undefined;
  }

  save(text: string): void {
    const payload = encodeUtf8(text);
    if (payload.length > this.capacityBytes) {
      throw new RangeError(`config is ${payload.length} bytes; the cache slot holds ${this.capacityBytes}`);
    }
    if (this.newest < 0 && this.generation === 0) this.load();
    const slot = this.newest === 0 ? 1 : 0;
    const base = slot * this.slotBytes;
    for (let i = 0; i < this.sectorsPerSlot; i++) this.flash.eraseSector(slot * this.sectorsPerSlot + i);
    if (payload.length > 0) this.flash.write(base + HEADER_BYTES, payload);
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, this.generation + 1, true);
    view.setUint32(8, payload.length, true);
    view.setUint32(12, crc32(payload), true);
    this.flash.write(base, header);
    this.generation++;
    this.newest = slot;
  }

  /** undefined: erased/never written; null: a header that cannot be a saved one. */
  private readHeader(slot: number): SlotHeader | undefined | null {
    const header = new Uint8Array(HEADER_BYTES);
    this.flash.read(slot * this.slotBytes, header);
    const view = new DataView(header.buffer);
    const magic = view.getUint32(0, true);
    if (magic === 0xffffffff) return undefined;
    if (magic !== MAGIC) return null;
    const generation = view.getUint32(4, true);
    const length = view.getUint32(8, true);
    if (length > this.capacityBytes || generation === 0 || generation === 0xffffffff) return null;
    return { slot, generation, length, crc: view.getUint32(12, true) };
  }

  /** The slot's payload, or null when it fails its CRC. */
  private readPayload(header: SlotHeader): Uint8Array | null {
    const payload = new Uint8Array(header.length);
    if (header.length > 0) this.flash.read(header.slot * this.slotBytes + HEADER_BYTES, payload);
    return crc32(payload) === header.crc ? payload : null;
  }
}

interface SlotHeader {
  slot: number;
  generation: number;
  length: number;
  crc: number;
}

/** Generation of a slot header for ordering: damaged headers (null) go after valid ones. */
function headerGeneration(header: SlotHeader | undefined | null): number {
  return header ? header.generation : -1;
}

// The device has no TextEncoder global: the wire codecs' UTF-8 writer serves.
function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(utf8Length(text));
  writeUtf8(text, bytes, 0);
  return bytes;
}

// A native decoder where the platform has one: XS's String.fromArrayBuffer on the device (it checks
// the UTF-8), TextDecoder elsewhere. Every deep-sleep wake decodes the cached config, and the
// JavaScript loop costs tens of computrons per byte (docs/power.md). Here only, not in readUtf8: the
// device's decoder throws on invalid UTF-8 where the wire codecs must substitute U+FFFD.
const fromArrayBuffer = (
  String as unknown as {
    fromArrayBuffer?: (buffer: ArrayBufferLike, offset: number, length: number) => string;
  }
).fromArrayBuffer;
const TextDecoderClass = (globalThis as { TextDecoder?: new () => { decode(bytes: Uint8Array): string } })
  .TextDecoder;
const textDecoder = fromArrayBuffer === undefined && TextDecoderClass ? new TextDecoderClass() : undefined;

function decodeUtf8(bytes: Uint8Array): string {
  if (fromArrayBuffer) return fromArrayBuffer(bytes.buffer, bytes.byteOffset, bytes.length);
  if (textDecoder) return textDecoder.decode(bytes);
  return readUtf8(bytes, 0, bytes.length);
}
