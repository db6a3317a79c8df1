/*
 * FlashPort for the Linux simulator (mcsim has no `flash` module): a NOR
 * image in a file, read, programmed and erased through file positions by a
 * small native helper (nor-file.c), with the NOR rules of the test emulation:
 * programming only clears bits (a write that would set one throws, nothing
 * written), anything out of range throws.
 *
 * Nothing of the image lives in the XS heap: on an ESP32 the capture ring is a
 * flash partition outside it, so the simulator's memory figures (the lane's
 * `esp32-memory:` line) are the device's. Reads return a fresh buffer per
 * call, copied into the caller's target, as Moddable's ESP32 `flash` module
 * does. Every program and erase is in the file before it returns, so a killed
 * simulator keeps what the chip would have kept.
 */
import type { FlashPort } from "../../ports";
import { closeImage, eraseImage, openImage, programImage, readImage } from "./nor-file";

export interface LinFlashOptions {
  /** Image file; created (all 0xFF) when missing or of the wrong size. */
  path: string;
  size: number;
  sectorSize?: number;
}

export class LinFlash implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  private fd: number;

  constructor(options: LinFlashOptions) {
    const sectorSize = options.sectorSize ?? 4096;
    if (!(sectorSize > 0 && Number.isInteger(sectorSize))) {
      throw new RangeError(`NOR sector size must be a positive integer, got ${sectorSize}`);
    }
    if (!(options.size > 0) || options.size % sectorSize !== 0) {
      throw new RangeError(`NOR size ${options.size} is not a whole number of ${sectorSize}-byte sectors`);
    }
    this.size = options.size;
    this.sectorSize = sectorSize;
    this.fd = openImage(options.path, options.size);
  }

  read(offset: number, target: Uint8Array): void {
    this.checkRange(offset, target.length, "read");
    if (target.length > 0) target.set(new Uint8Array(readImage(this.fd, offset, target.length)));
  }

  write(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length, "write");
    if (data.length === 0) return;
    const refused = programImage(this.fd, offset, data);
    if (refused >= 0) {
      const was = new Uint8Array(readImage(this.fd, refused, 1))[0]!;
      throw new Error(
        `NOR write would set bits at offset ${refused} (0x${was.toString(16)} → 0x${data[refused - offset]!.toString(16)}): erase first`,
      );
    }
  }

  eraseSector(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size / this.sectorSize) {
      throw new RangeError(`NOR erase of sector ${index} outside 0..${this.size / this.sectorSize - 1}`);
    }
    eraseImage(this.fd, index * this.sectorSize, this.sectorSize);
  }

  close(): void {
    if (this.fd < 0) return;
    closeImage(this.fd);
    this.fd = -1;
  }

  private checkRange(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new RangeError(`NOR ${what} of ${length} bytes at ${offset} outside 0..${this.size}`);
    }
  }
}
