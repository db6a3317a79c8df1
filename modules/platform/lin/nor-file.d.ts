/** Linux simulator only: a NOR image in a file (nor-file.c). */
/** The image's file descriptor; a missing or wrongly sized image is (re)created all 0xFF. */
export function openImage(path: string, size: number): number;
/** `length` bytes at `offset`, in a fresh ArrayBuffer (as the ESP32's flash module returns them). */
export function readImage(fd: number, offset: number, length: number): ArrayBuffer;
/** -1 once written, or the offset of the first byte that would set a bit (nothing written then). */
export function programImage(fd: number, offset: number, data: Uint8Array): number;
/** The range becomes 0xFF. */
export function eraseImage(fd: number, offset: number, length: number): void;
export function closeImage(fd: number): void;
