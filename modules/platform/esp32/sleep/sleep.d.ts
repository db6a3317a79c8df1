/*
 * Types of the native module modules/platform/esp32/sleep (sleep.c): ESP-IDF
 * deep sleep, wake cause and RTC memory for battery mode (docs/power.md).
 */
declare module "capsync/sleep" {
  /** esp_reset_reason() as a name. */
  export function resetReason():
    | "deep-sleep"
    | "power-on"
    | "brownout"
    | "watchdog"
    | "panic"
    | "software"
    | "other";
  /** esp_sleep_get_wakeup_cause(): 4 (ESP_SLEEP_WAKEUP_TIMER) after a timer wake, 0 otherwise. */
  export function wakeupCause(): number;
  /** The RTC timer in µs (esp_rtc_get_time_us): counts through deep sleep. */
  export function rtcMicros(): number;
  /** A copy of the 4096-byte RTC memory area (RTC_NOINIT_ATTR). */
  export function loadRtc(): ArrayBuffer;
  /** Copy `buffer` (≤ 4096 bytes) into the RTC memory area. */
  export function saveRtc(buffer: ArrayBufferLike | ArrayBufferView): void;
  /** Arm the timer wake-up after `ms` and enter deep sleep. Never returns. */
  export function deepSleep(ms: number): never;
}
