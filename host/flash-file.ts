/*
 * A file-backed NOR image for Node: the same checked emulation as the tests
 * use (NorImage: NOR rules, counters, power-cut injection), with every
 * changed range written through to a file so the image survives a process
 * restart. The desktop demo keeps its capture partition here.
 */
import * as fs from "node:fs";
import { NorImage } from "../modules/storage/nor-image";

export interface FileFlashOptions {
  path: string;
  /** Partition size in bytes; an existing file of another size is replaced by a blank image. */
  size: number;
  sectorSize?: number;
  /** fsync after every change (power-loss durability on the host, at a cost); default false. */
  sync?: boolean;
}

export class FileFlash extends NorImage {
  readonly path: string;
  /** True when the file was missing or the wrong size and a blank image was created. */
  readonly created: boolean;
  private readonly sink: { fd: number; sync: boolean };

  constructor(options: FileFlashOptions) {
    const { bytes, created } = load(options.path, options.size);
    const sink = { fd: -1, sync: options.sync === true };
    super({
      bytes,
      sectorSize: options.sectorSize ?? 4096,
      onChange: (offset, length) => {
        fs.writeSync(sink.fd, bytes, offset, length, offset);
        if (sink.sync) fs.fsyncSync(sink.fd);
      },
    });
    this.path = options.path;
    this.created = created;
    this.sink = sink;
    sink.fd = fs.openSync(options.path, created ? "w+" : "r+");
    if (created) fs.writeSync(sink.fd, bytes, 0, bytes.length, 0);
  }

  close(): void {
    if (this.sink.fd >= 0) {
      fs.closeSync(this.sink.fd);
      this.sink.fd = -1;
    }
  }
}

function load(path: string, size: number): { bytes: Uint8Array; created: boolean } {
  try {
    const data = fs.readFileSync(path);
    if (data.length === size) return { bytes: new Uint8Array(data), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return { bytes: new Uint8Array(size).fill(0xff), created: true };
}
