/*
 * The simulator's native NOR-image helper (modules/platform/lin/nor-file.c)
 * for Node tests, with the same semantics: `openImage` (re)creates a missing
 * or wrongly sized image all 0xFF, `readImage` returns a fresh ArrayBuffer,
 * `programImage` refuses (writing nothing) a program that would set a bit and
 * returns the offending offset, else -1. Lets modules/platform/lin/flash.ts
 * run in Node.
 */
import * as fs from "node:fs";

export function openImage(path: string, size: number): number {
  const fd = fs.openSync(path, fs.existsSync(path) ? "r+" : "w+");
  if (fs.fstatSync(fd).size !== size) {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, new Uint8Array(size).fill(0xff), 0, size, 0);
  }
  return fd;
}

export function readImage(fd: number, offset: number, length: number): ArrayBuffer {
  const out = new Uint8Array(length);
  if (fs.readSync(fd, out, 0, length, offset) !== length)
    throw new Error("flash image is shorter than expected");
  return out.buffer;
}

export function programImage(fd: number, offset: number, data: Uint8Array): number {
  const current = new Uint8Array(readImage(fd, offset, data.length));
  for (let i = 0; i < data.length; i++) if ((data[i]! & ~current[i]!) !== 0) return offset + i;
  fs.writeSync(fd, data, 0, data.length, offset);
  return -1;
}

export function eraseImage(fd: number, offset: number, length: number): void {
  fs.writeSync(fd, new Uint8Array(length).fill(0xff), 0, length, offset);
}

export function closeImage(fd: number): void {
  fs.closeSync(fd);
}
