/*
 * Linux simulator only (the manifest's lin platform): the XS machine's live
 * memory after a full collection (memory-probe.c says what each figure is);
 * memory-probe.d.ts types it and memory-trace.ts traces the peaks.
 */
export function sampleMemory(figures) @ "xs_capsync_memory_sample";
