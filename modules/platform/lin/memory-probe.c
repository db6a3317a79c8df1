/*
 * capsync, Linux simulator only: the XS machine's live memory, measured the
 * way an ESP32 would run out of it. sample(figures) runs a full, compacting
 * collection (what XS does itself when a fixed pool is exhausted) and then
 * fills `figures` (the ArrayBuffer of an Int32Array of 8) with:
 *   0 live slots             1 usable slots in the pool (creation heap - 1)
 *   2 live chunk bytes       3 chunk bytes in the pool (creation chunk)
 *   4 live chunks (count)    5 bytes of slot arrays and pointer tables in them
 *   6 collections (debug builds; mcsim resets it every second)
 *   7 peak stack use in slots (debug builds; -1 in a release build)
 * Chunk bytes are the host's (64-bit): each chunk carries a 16-byte header
 * (8 on a 32-bit MCU) and arrays hold 32-byte slots (16 on a 32-bit MCU);
 * figures 4 and 5 let the caller estimate the device's chunk bytes.
 * Everything else here is a read of the machine's own counters.
 */
#include "xsAll.h"
#include "xsmc.h"

void xs_capsync_memory_sample(xsMachine *the)
{
	void *data;
	xsUnsignedValue count;
	int32_t chunks = 0, walked = 0, pointerBytes = 0;
	txBlock *block;
	txSlot *heap;

	xsCollectGarbage();
	xsmcGetBufferWritable(xsArg(0), &data, &count);
	if (count < 8 * sizeof(int32_t)) xsRangeError("figures: 8 int32 needed");

	for (block = the->firstBlock; block; block = block->nextBlock) {
		txByte *current = ((txByte *)block) + sizeof(txBlock);
		while (current < block->current) {
			txByte *next = ((txChunk *)current)->temporary;
			chunks++;
			walked += (int32_t)(next - current);
			current = next;
		}
	}
	for (heap = the->firstHeap; heap; heap = heap->next) {
		txSlot *slot = heap + 1, *limit = heap->value.reference;
		for (; slot < limit; slot++) {
			txByte *address = C_NULL;
			switch (slot->kind) {
			case XS_ARGUMENTS_SLOPPY_KIND:
			case XS_ARGUMENTS_STRICT_KIND:
			case XS_ARRAY_KIND:
			case XS_STACK_KIND:
				address = (txByte *)slot->value.array.address;
				break;
			case XS_GLOBAL_KIND:
			case XS_MAP_KIND:
			case XS_SET_KIND:
				address = (txByte *)slot->value.table.address;
				break;
			default:
				break;
			}
			if (address) {
				txChunk *chunk = (txChunk *)(address - sizeof(txChunk));
				pointerBytes += (int32_t)(chunk->temporary - (txByte *)chunk) - (int32_t)sizeof(txChunk);
			}
		}
	}

	int32_t *figures = data;
	figures[0] = (int32_t)the->currentHeapCount;
	figures[1] = (int32_t)the->maximumHeapCount;
	figures[2] = (int32_t)the->currentChunksSize;
	figures[3] = (int32_t)the->maximumChunksSize;
	/* The walk covers every live chunk exactly when it adds up to XS's own total. */
	figures[4] = walked == (int32_t)the->currentChunksSize ? chunks : -1;
	figures[5] = pointerBytes;
#ifdef mxInstrument
	/* Collections since mcsim's instrumentation last sampled (it resets the count every second). */
	figures[6] = (int32_t)the->garbageCollectionCount;
	figures[7] = (int32_t)(the->stackTop - the->stackPeak);
#else
	/* A release build keeps neither count. */
	figures[6] = -1;
	figures[7] = -1;
#endif
}

