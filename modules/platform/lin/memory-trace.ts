/*
 * Linux simulator only, in the memory build (`memoryProbe=1`, see
 * host-tests/sim/memory.ts): every `periodMs` a full collection and a read of
 * the XS machine's live slots and chunk bytes (memory-probe.c), keeping the
 * peaks. Traced as one line whenever a peak rises and every `reportMs`:
 *
 *   memory: peak S slots of P, C chunk bytes of Q (32-bit estimate E), stack K slots
 *
 * S and C are the highest live figures seen after a collection; P and Q the
 * pools the machine was created with (fixed in that build, as on an ESP32).
 * E estimates C on a 32-bit MCU: 8 bytes less of header per chunk and half of
 * every slot array and pointer table (16-byte slots and 4-byte pointers).
 * Strings, ArrayBuffers, code and native structs count as the same size:
 * an overestimate for the last. The sampler allocates nothing unless it
 * traces.
 */
import Timer from "timer";
import type { Logger } from "../../ports";
import { sampleMemory } from "./memory-probe";

export interface MemoryPeaks {
  slots: number;
  slotPool: number;
  chunkBytes: number;
  chunkPool: number;
  /** -1 when the chunk walk did not add up (no estimate). */
  chunkBytes32: number;
  /** -1 in a release build (XS keeps no stack peak there). */
  stackSlots: number;
}

/** The 32-bit estimate of `chunkBytes` live chunk bytes (-1 when `chunks` is unknown). */
export function chunkBytesOn32Bit(chunkBytes: number, chunks: number, slotArrayBytes: number): number {
  if (chunks < 0) return -1;
  return chunkBytes - 8 * chunks - slotArrayBytes / 2;
}

export function formatPeaks(p: MemoryPeaks): string {
  const estimate = p.chunkBytes32 >= 0 ? String(p.chunkBytes32) : "unknown";
  const stack = p.stackSlots >= 0 ? String(p.stackSlots) : "unknown";
  return `memory: peak ${p.slots} slots of ${p.slotPool}, ${p.chunkBytes} chunk bytes of ${p.chunkPool} (32-bit estimate ${estimate}), stack ${stack} slots`;
}

export function startMemoryTrace(log: Logger, periodMs = 100, reportMs = 5_000): void {
  const figures = new Int32Array(8);
  const peaks: MemoryPeaks = {
    slots: 0,
    slotPool: 0,
    chunkBytes: 0,
    chunkPool: 0,
    chunkBytes32: 0,
    stackSlots: -1,
  };
  let sinceReport = 0;
  const sample = (): void => {
    sampleMemory(figures.buffer);
    let rose = false;
    if (figures[0]! > peaks.slots) {
      peaks.slots = figures[0]!;
      rose = true;
    }
    if (figures[2]! > peaks.chunkBytes) {
      peaks.chunkBytes = figures[2]!;
      rose = true;
    }
    const estimate = chunkBytesOn32Bit(figures[2]!, figures[4]!, figures[5]!);
    if (estimate < 0) peaks.chunkBytes32 = -1;
    else if (peaks.chunkBytes32 >= 0 && estimate > peaks.chunkBytes32) peaks.chunkBytes32 = estimate;
    peaks.slotPool = figures[1]!;
    peaks.chunkPool = figures[3]!;
    if (figures[7]! > peaks.stackSlots) peaks.stackSlots = figures[7]!;
    sinceReport += periodMs;
    if (rose || sinceReport >= reportMs) {
      sinceReport = 0;
      log.info(formatPeaks(peaks));
    }
  };
  sample();
  Timer.repeat(sample, periodMs);
}
