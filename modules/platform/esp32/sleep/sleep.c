/*
 * capsync's deep-sleep module for the ESP32 (ESP-IDF 5): what Moddable does
 * not expose to JavaScript. Kept minimal; the schedule and every rule live in
 * the platform-free core (modules/power, docs/power.md).
 *
 *   resetReason()   esp_reset_reason() as a name: "deep-sleep", "power-on", "brownout",
 *                   "watchdog", "panic", "software" or "other"
 *   wakeupCause()   esp_sleep_get_wakeup_cause() (ESP_SLEEP_WAKEUP_TIMER = 4), for the log
 *   rtcMicros()     the RTC timer in µs: counts through deep sleep, never set by SNTP
 *   loadRtc()       a new ArrayBuffer holding a copy of the RTC memory area
 *   saveRtc(buffer) copy `buffer` (at most CAPSYNC_RTC_BYTES) into the RTC memory area
 *   deepSleep(ms)   arm the RTC timer wake-up and enter deep sleep; does not return
 *
 * The area is RTC_NOINIT_ATTR: in RTC slow memory, kept through deep sleep
 * and software/watchdog resets, never initialised by the bootloader, so it
 * holds garbage after power-on; the core's CRC tells the two apart.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"

#include <string.h>
#include "esp_attr.h"
#include "esp_sleep.h"
#include "esp_system.h"

/* Declared in the chip's rom/rtc.h, whose path differs per target; always linked. */
extern uint64_t esp_rtc_get_time_us(void);

#define CAPSYNC_RTC_BYTES 4096

static RTC_NOINIT_ATTR uint8_t gCapsyncRtc[CAPSYNC_RTC_BYTES];

void xs_capsync_sleep_reset_reason(xsMachine *the)
{
	const char *name = "other";
	switch (esp_reset_reason()) {
		case ESP_RST_DEEPSLEEP: name = "deep-sleep"; break;
		case ESP_RST_POWERON: name = "power-on"; break;
		case ESP_RST_BROWNOUT: name = "brownout"; break;
		case ESP_RST_INT_WDT:
		case ESP_RST_TASK_WDT:
		case ESP_RST_WDT: name = "watchdog"; break;
		case ESP_RST_PANIC: name = "panic"; break;
		case ESP_RST_SW: name = "software"; break;
		default: break;
	}
	xsmcSetString(xsResult, (char *)name);
}

void xs_capsync_sleep_wakeup_cause(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)esp_sleep_get_wakeup_cause());
}

void xs_capsync_sleep_rtc_micros(xsMachine *the)
{
	xsmcSetNumber(xsResult, (xsNumberValue)esp_rtc_get_time_us());
}

void xs_capsync_sleep_load_rtc(xsMachine *the)
{
	xsmcSetArrayBuffer(xsResult, gCapsyncRtc, CAPSYNC_RTC_BYTES);
}

void xs_capsync_sleep_save_rtc(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (length > CAPSYNC_RTC_BYTES)
		xsRangeError("RTC image of %u bytes exceeds %u", (unsigned)length, (unsigned)CAPSYNC_RTC_BYTES);
	memcpy(gCapsyncRtc, data, length);
}

void xs_capsync_sleep_deep_sleep(xsMachine *the)
{
	xsNumberValue ms = xsmcToNumber(xsArg(0));
	if (!(ms >= 1) || ms > 86400000.0 * 365)
		xsRangeError("deep sleep of %g ms is out of range", ms);
	esp_sleep_enable_timer_wakeup((uint64_t)(ms * 1000.0));
	esp_deep_sleep_start();
}
