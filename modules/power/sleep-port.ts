/*
 * The port battery mode needs from the platform (ESP-IDF on the ESP32, an
 * emulation on the desktop simulator and in tests). Moddable exposes none of
 * this to JavaScript: modules/platform/esp32/sleep/ is the native module.
 */

/**
 * Why the chip is running. "deep-sleep" is the timer wake from deep sleep
 * (ESP_RST_DEEPSLEEP): the run continues. Everything else is a reboot for
 * the reboot rule (docs/power.md, "Wake causes").
 */
export type WakeCause = "deep-sleep" | "power-on" | "brownout" | "watchdog" | "panic" | "software" | "other";

export interface SleepPort {
  /** Why this start happened. */
  readonly wakeCause: WakeCause;
  /**
   * Milliseconds on the RTC timer: keeps counting through deep sleep and
   * resets, never set by SNTP (esp_rtc_get_time_us on the ESP32).
   */
  rtcMs(): number;
  /** A copy of the RTC memory area (RTC_IMAGE_BYTES), or undefined where there is none. */
  loadRtc(): Uint8Array | undefined;
  /** Replace the RTC memory area's contents. */
  saveRtc(bytes: Uint8Array): void;
  /**
   * Arm the timer wake for `ms` and enter deep sleep. On the ESP32 it does not
   * return; the desktop emulation ends the process and its runner restarts it.
   */
  deepSleep(ms: number): void;
}

export const WAKE_CAUSES: readonly WakeCause[] = [
  "deep-sleep",
  "power-on",
  "brownout",
  "watchdog",
  "panic",
  "software",
  "other",
];
