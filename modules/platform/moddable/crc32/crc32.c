/*
 * CRC-32 (IEEE, reflected 0xEDB88320) in native code for the Moddable builds:
 * the ESP32's ROM routine on the device, a byte-wise table here everywhere
 * else (the Linux simulator), so the simulator lane runs the same JavaScript
 * binding the device does. modules/storage/crc32.ts keeps the JavaScript
 * implementation as the reference; native-crc.ts installs this one only after
 * it gave the reference's answer on a check vector.
 *
 * crc32Update(crc, bytes, start, end): `crc` is the running (un-inverted)
 * register, as in crc32.ts. The ROM's esp_rom_crc32_le takes and returns the
 * finished (inverted) value, hence the two inversions.
 */
#include "xsmc.h"
#include <stdint.h>

#if defined(ESP32)
#include "esp_rom_crc.h"

static uint32_t update(uint32_t reg, const uint8_t *p, uint32_t n)
{
	return ~esp_rom_crc32_le(~reg, p, n);
}
#else
static uint32_t table[256];
static int tableReady = 0;

static uint32_t update(uint32_t reg, const uint8_t *p, uint32_t n)
{
	if (!tableReady) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		tableReady = 1;
	}
	while (n--) reg = table[(reg ^ *p++) & 0xFF] ^ (reg >> 8);
	return reg;
}
#endif

void xs_capsync_crc32_update(xsMachine *the)
{
	double d = xsmcToNumber(xsArg(0));
	uint32_t reg = (uint32_t)(int64_t)d;
	void *data;
	xsUnsignedValue count;
	xsmcGetBufferReadable(xsArg(1), &data, &count);
	xsIntegerValue start = xsmcToInteger(xsArg(2));
	xsIntegerValue end = xsmcToInteger(xsArg(3));
	if (start < 0 || end < start || (xsUnsignedValue)end > count) xsRangeError("crc32: range outside the buffer");
	reg = update(reg, (const uint8_t *)data + start, (uint32_t)(end - start));
	xsmcSetNumber(xsResult, (double)reg);
}
