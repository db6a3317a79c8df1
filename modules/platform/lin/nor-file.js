/*
 * Linux simulator only (the manifest's lin platform): a NOR image in a file,
 * read and programmed through file positions (nor-file.c says why);
 * nor-file.d.ts types it and flash.ts wraps it as a FlashPort.
 */
export function openImage(path, size) @ "xs_capsync_nor_open";
export function readImage(fd, offset, length) @ "xs_capsync_nor_read";
export function programImage(fd, offset, data) @ "xs_capsync_nor_program";
export function eraseImage(fd, offset, length) @ "xs_capsync_nor_erase";
export function closeImage(fd) @ "xs_capsync_nor_close";
