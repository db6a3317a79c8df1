/*
 * Host functions of sleep.c (types: sleep.d.ts; documented there and in docs/power.md).
 * `native()` binds an XS host function by name, as the SDK's own modules/io does.
 */
export function resetReason() {
  return native("xs_capsync_sleep_reset_reason").call(this);
}
export function wakeupCause() {
  return native("xs_capsync_sleep_wakeup_cause").call(this);
}
export function rtcMicros() {
  return native("xs_capsync_sleep_rtc_micros").call(this);
}
export function loadRtc() {
  return native("xs_capsync_sleep_load_rtc").call(this);
}
export function saveRtc(buffer) {
  return native("xs_capsync_sleep_save_rtc").call(this, buffer);
}
export function deepSleep(ms) {
  return native("xs_capsync_sleep_deep_sleep").call(this, ms);
}
