/*
 * Battery mode's SleepPort on the ESP32, over the native module
 * modules/platform/esp32/sleep (ESP-IDF deep sleep, reset reason, RTC timer,
 * RTC memory). The wake cause is read once at start: ESP-IDF keeps the reset
 * reason for the whole run of the application.
 */
import { deepSleep, loadRtc, resetReason, rtcMicros, saveRtc, wakeupCause } from "capsync/sleep";
import type { SleepPort, WakeCause } from "../../power/sleep-port";

export class Esp32SleepPort implements SleepPort {
  readonly wakeCause: WakeCause;
  /** esp_sleep_get_wakeup_cause(), for the log (4: the RTC timer). */
  readonly wakeupSource: number;

  constructor() {
    const reason = resetReason();
    this.wakeupSource = wakeupCause();
    this.wakeCause = reason;
  }

  rtcMs(): number {
    return rtcMicros() / 1000;
  }

  loadRtc(): Uint8Array {
    return new Uint8Array(loadRtc());
  }

  saveRtc(bytes: Uint8Array): void {
    saveRtc(bytes);
  }

  deepSleep(ms: number): void {
    deepSleep(Math.max(1, Math.ceil(ms)));
  }
}
