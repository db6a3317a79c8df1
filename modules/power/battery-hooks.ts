/*
 * What battery mode changes in the firmware's data manager (modules/app/firmware.ts
 * calls these when the platform passes them): the settings it runs (capture
 * belongs to the power core in battery mode) and its wake options.
 */
import type { CaptureSettings } from "../config/settings";
import type { PowerWakeHooks } from "../manager/data-manager";

export interface BatteryHooks {
  /** The settings the data manager runs for these settings. */
  managerSettings(settings: CaptureSettings): CaptureSettings;
  /** Extra data manager options at its creation. */
  managerOptions(): { power?: PowerWakeHooks };
}
