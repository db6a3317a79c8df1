/*
 * Battery mode settings, read from the data_manager service's attributes
 * (docs/config.md, "Battery mode"; docs/power.md for what they do).
 *
 *   power_mode: "deep_sleep"                          capsync's name
 *   firmware_mode: "deep_sleep_between_data_syncs"     viam-micro-server's name (its agent advanced settings)
 *   deep_sleep_action_timeout_seconds: 120             viam-micro-server's bound on a wake with the radio on
 *   capture_wake_budget_ms: 1000                       capsync: bound on a capture wake (radio off)
 *   sync_fill_threshold: 0.5                           capsync: a ring this full (unsynced bytes / capacity) syncs at the next wake
 *
 * Kept apart from machine-config.ts so the parsing of the other attributes
 * is untouched; machine-config calls `parsePowerAttributes` once.
 */
import type { ConfigIssue } from "../config/settings";

export type PowerMode = "always_on" | "deep_sleep";

export interface PowerSettings {
  mode: PowerMode;
  /** Longest a sync wake (WiFi, TLS, upload, config poll) stays awake, ms. */
  syncWakeBudgetMs: number;
  /** Longest a capture wake (sensors, RTC memory, maybe a flash append) stays awake, ms. */
  captureWakeBudgetMs: number;
  /** A ring whose unsynced bytes reach this share of its capacity syncs at the next wake (0 < x ≤ 1). */
  syncFillThreshold: number;
}

export const POWER_DEFAULTS: Readonly<PowerSettings> = {
  mode: "always_on",
  // viam-micro-server's DEFAULT_ACTIVE_TIMEOUT_SECS.
  syncWakeBudgetMs: 120_000,
  captureWakeBudgetMs: 1000,
  syncFillThreshold: 0.5,
};

/** The data_manager attributes this file reads (machine-config.ts does not warn about them). */
export const POWER_ATTRIBUTES: readonly string[] = [
  "power_mode",
  "firmware_mode",
  "deep_sleep_action_timeout_seconds",
  "capture_wake_budget_ms",
  "sync_fill_threshold",
];

export function parsePowerAttributes(attributes: unknown, issues: ConfigIssue[]): PowerSettings {
  const out: PowerSettings = { ...POWER_DEFAULTS };
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) return out;
  const a = attributes as Record<string, unknown>;
  const bad = (name: string, want: string) =>
    issues.push({
      severity: "error",
      message: `data_manager attribute ${name} must be ${want} (got ${JSON.stringify(a[name]) ?? String(a[name])}); default kept`,
    });
  let modeFrom = "";
  const mode = a.power_mode;
  if (mode !== undefined) {
    if (mode === "deep_sleep" || mode === "always_on") {
      out.mode = mode;
      modeFrom = "power_mode";
    } else bad("power_mode", '"always_on" or "deep_sleep"');
  }
  const firmwareMode = a.firmware_mode;
  if (firmwareMode !== undefined) {
    const asMode: PowerMode | undefined =
      firmwareMode === "deep_sleep_between_data_syncs"
        ? "deep_sleep"
        : firmwareMode === "normal"
          ? "always_on"
          : undefined;
    if (asMode === undefined) bad("firmware_mode", '"normal" or "deep_sleep_between_data_syncs"');
    else if (modeFrom !== "" && asMode !== out.mode) {
      issues.push({
        severity: "warning",
        message: `data_manager attributes power_mode and firmware_mode disagree; power_mode ("${out.mode}") wins`,
      });
    } else out.mode = asMode;
  }
  const positive = (name: string, apply: (v: number) => void, max = Number.POSITIVE_INFINITY) => {
    const v = a[name];
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > max)
      bad(name, max < Number.POSITIVE_INFINITY ? `a number in (0, ${max}]` : "a positive number");
    else apply(v);
  };
  positive("deep_sleep_action_timeout_seconds", (v) => (out.syncWakeBudgetMs = v * 1000));
  positive("capture_wake_budget_ms", (v) => (out.captureWakeBudgetMs = v));
  positive("sync_fill_threshold", (v) => (out.syncFillThreshold = v), 1);
  return out;
}
