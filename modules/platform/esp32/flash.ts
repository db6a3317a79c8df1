/*
 * FlashPort over an ESP32 data partition, through Moddable's `flash` module.
 *
 * The SPI flash driver does not enforce NOR rules (a program ANDs bits in
 * silently), so the store's own discipline is what keeps data sound; the
 * checked emulation (modules/storage/nor-image.ts) is where tests prove it.
 * Every program or erase here stalls the whole chip (cache off): the store
 * keeps them few and lets the sampler choose when erases happen.
 */
import Flash from "flash";
import type { FlashPort } from "../../ports";

export class Esp32Flash implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  private readonly flash: Flash;

  /** `partition` is the name in the board's partition table (see boards/). */
  constructor(partition: string) {
    this.flash = new Flash(partition);
    this.size = this.flash.byteLength;
    this.sectorSize = this.flash.blockSize;
    if (!(this.sectorSize > 0) || this.size % this.sectorSize !== 0) {
      throw new RangeError(
        `flash partition "${partition}": ${this.size} bytes is not whole ${this.sectorSize}-byte sectors`,
      );
    }
  }

  read(offset: number, target: Uint8Array): void {
    this.checkRange(offset, target.length);
    // Moddable returns a fresh ArrayBuffer per read; reads happen per sector
    // at open and per upload chunk, never per reading.
    target.set(new Uint8Array(this.flash.read(offset, target.length) as ArrayBuffer));
  }

  /**
   * The partition mapped read-only through the flash cache (Moddable's `flash.map()`, ESP-IDF's
   * esp_partition_mmap, 64 KB MMU pages). ESP-IDF drops a mapped range from the cache after each
   * write and erase of it; the store still reads a frame again through `read` before it counts one
   * that looks erased or damaged in the map, so a line that lags behind a program costs a driver read,
   * never a record (one still showing bytes from before an erase is not caught: docs/storage.md).
   */
  map(): Uint8Array {
    return new Uint8Array(this.flash.map() as unknown as ArrayBuffer);
  }

  write(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length);
    // The driver takes any readable buffer (a view's byteOffset is honoured)
    // and refuses zero-length writes; the store never issues one.
    if (data.length > 0) this.flash.write(offset, data.length, data);
  }

  eraseSector(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size / this.sectorSize) {
      throw new RangeError(`flash erase of sector ${index} outside the partition`);
    }
    this.flash.erase(index);
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new RangeError(`flash access of ${length} bytes at ${offset} outside 0..${this.size}`);
    }
  }
}
