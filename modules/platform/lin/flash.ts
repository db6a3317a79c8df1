/*
 * FlashPort for the Linux simulator (mcsim has no `flash` module): a NOR
 * image kept in a file through Moddable's `file` module, with the same NOR
 * rules and checks as the test emulation (it is that emulation, plus write-
 * through). The image lives in RAM (the desktop has plenty) and every changed
 * range is written back at once, so a killed simulator keeps what the chip
 * would have kept.
 */
import { File } from "file";
import type { FlashPort } from "../../ports";
import { NorImage } from "../../storage/nor-image";

export interface LinFlashOptions {
  /** Image file; created (all 0xFF) when missing or of the wrong size. */
  path: string;
  size: number;
  sectorSize?: number;
}

export class LinFlash implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  private readonly image: NorImage;
  private readonly file: File;

  constructor(options: LinFlashOptions) {
    const sectorSize = options.sectorSize ?? 4096;
    const bytes = new Uint8Array(options.size).fill(0xff);
    let fresh = true;
    if (File.exists(options.path)) {
      const existing = new File(options.path);
      if (existing.length === options.size) {
        bytes.set(new Uint8Array(existing.read(ArrayBuffer)));
        fresh = false;
      }
      existing.close();
      if (fresh) File.delete(options.path);
    }
    this.file = new File(options.path, true);
    if (fresh) {
      this.file.position = 0;
      this.file.write(bytes.buffer);
    }
    this.image = new NorImage({
      bytes,
      sectorSize,
      onChange: (offset, length) => {
        this.file.position = offset;
        this.file.write(bytes.slice(offset, offset + length).buffer);
      },
    });
    this.size = this.image.size;
    this.sectorSize = this.image.sectorSize;
  }

  read(offset: number, target: Uint8Array): void {
    this.image.read(offset, target);
  }

  write(offset: number, data: Uint8Array): void {
    this.image.write(offset, data);
  }

  eraseSector(index: number): void {
    this.image.eraseSector(index);
  }

  close(): void {
    this.file.close();
  }
}
