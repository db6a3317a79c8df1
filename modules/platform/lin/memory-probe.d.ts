/**
 * Linux simulator only: run a full collection, then fill `figures` (an ArrayBuffer of 8 int32):
 * live slots, usable slots, live chunk bytes, chunk pool bytes, live chunk
 * count (-1 if the walk did not add up), bytes of slot arrays and pointer
 * tables in chunks, collections so far (-1 if not instrumented), peak stack
 * slots. See memory-probe.c.
 */
export function sampleMemory(figures: ArrayBuffer): void;
