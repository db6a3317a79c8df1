/*
 * Host functions of sleep.c (types: sleep.d.ts; documented there and in docs/power.md).
 */
export function resetReason() @ "xs_capsync_sleep_reset_reason";
export function wakeupCause() @ "xs_capsync_sleep_wakeup_cause";
export function rtcMicros() @ "xs_capsync_sleep_rtc_micros";
export function loadRtc() @ "xs_capsync_sleep_load_rtc";
export function saveRtc(buffer) @ "xs_capsync_sleep_save_rtc";
export function deepSleep(ms) @ "xs_capsync_sleep_deep_sleep";
