/*
 * Moddable's `file` module for Node tests, with the semantics of its Linux
 * implementation (modules/files/file/lin/modFile.c): `new File(path, true)`
 * opens read/write without truncating, creating the file if missing; reads
 * and writes happen at `position` and advance it; `write` takes ArrayBuffers.
 * Lets the simulator's flash port (modules/platform/lin/flash.ts) run in Node.
 */
import * as fs from "node:fs";

export class File {
  private fd: number;
  private pos = 0;

  constructor(path: string, write = false) {
    try {
      this.fd = fs.openSync(path, write ? "r+" : "r");
    } catch {
      if (!write) throw new Error("file not found");
      this.fd = fs.openSync(path, "w+");
    }
  }

  get length(): number {
    return fs.fstatSync(this.fd).size;
  }

  get position(): number {
    return this.pos;
  }

  set position(value: number) {
    this.pos = value;
  }

  read(_type: unknown, bytes?: number): ArrayBuffer {
    const size = this.length;
    if (this.pos >= size) throw new Error("read past end of file");
    const n = bytes === undefined || this.pos + bytes > size ? size - this.pos : bytes;
    const out = new Uint8Array(n);
    fs.readSync(this.fd, out, 0, n, this.pos);
    this.pos += n;
    return out.buffer;
  }

  write(...values: ArrayBuffer[]): void {
    for (const value of values) {
      if (!(value instanceof ArrayBuffer)) throw new TypeError("write takes ArrayBuffers (as on lin)");
      const bytes = new Uint8Array(value);
      fs.writeSync(this.fd, bytes, 0, bytes.length, this.pos);
      this.pos += bytes.length;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  static exists(path: string): boolean {
    return fs.existsSync(path);
  }

  static delete(path: string): boolean {
    try {
      fs.unlinkSync(path);
      return true;
    } catch {
      return false;
    }
  }
}
