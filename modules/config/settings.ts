/*
 * Validated settings derived from a Viam machine config (see machine-config.ts
 * for the parsing and docs/config.md for every attribute).
 */

import type { PowerSettings } from "../power/power-settings";
import { DEFAULT_UPLOAD_BUDGET_KB } from "./limits";

/** A problem with one part of the config. Errors drop only that part; warnings change nothing. */
export interface ConfigIssue {
  severity: "error" | "warning";
  /** Component name, when the issue belongs to one. */
  component?: string;
  /** Capture method, when the issue belongs to one. */
  method?: string;
  message: string;
}

/** The data_manager service's attributes (Viam's, then capsync's own additions). */
export interface DataManagerSettings {
  /** Service name from the config ("" when there is no data_manager service). */
  name: string;
  /** Viam: minutes between syncs (default 0.1 = 6 s). */
  syncIntervalMins: number;
  /** Viam: no uploads. */
  syncDisabled: boolean;
  /** Viam: no capture at all. */
  captureDisabled: boolean;
  /** Viam: tags added to every upload. */
  tags: string[];
  /** capsync: keep captured-but-unsynced data across reboots (Viam's micro-server loses it: default false). */
  retainUnsyncedOnReboot: boolean;
  /**
   * capsync: most SensorData bytes in one upload request, in KB: an integer from
   * MIN_UPLOAD_BUDGET_KB to MAX_UPLOAD_BUDGET_KB (./limits.ts), so a request buffer sized once
   * from it (uploadBudgetBytes) is bounded.
   */
  uploadBudgetKb: number;
  /** capsync: a reading waits in RAM at most this long before it is written to flash. */
  flushIntervalSecs: number;
  /** capsync: minutes between checks of the cloud config for changes. */
  configPollIntervalMins: number;
  /**
   * capsync: flash sectors (4 KB) per collector ring unless the capture method says otherwise.
   * Unset (`ringSectorsSet` false), rings are sized from the partition instead
   * (modules/capture/ring-sizing.ts) and this is only the size for a store that has no partition.
   */
  ringSectors: number;
  /** The config set `ring_sectors`: every ring without a size of its own gets exactly that many sectors. */
  ringSectorsSet: boolean;
  /** capsync: how long one sector erase freezes the chip (ms), for scheduling erase-ahead. */
  eraseStallMs: number;
}

export const DATA_MANAGER_DEFAULTS: Readonly<DataManagerSettings> = {
  name: "",
  syncIntervalMins: 0.1,
  syncDisabled: false,
  captureDisabled: false,
  tags: [],
  retainUnsyncedOnReboot: false,
  uploadBudgetKb: DEFAULT_UPLOAD_BUDGET_KB,
  flushIntervalSecs: 5,
  configPollIntervalMins: 1,
  ringSectors: 8,
  ringSectorsSet: false,
  eraseStallMs: 45,
};

/** A component that has at least one capture method configured. */
export interface ComponentSettings {
  name: string;
  /** Viam API, e.g. "rdk:component:sensor". */
  api: string;
  model: string;
  attributes: Record<string, unknown>;
}

/** One capture method of one component: a collector and its ring. */
export interface CollectorSettings {
  /** Ring key, "<api>/<name>/<Method>[/<parameter>]". */
  key: string;
  componentType: string;
  componentName: string;
  model: string;
  method: string;
  /** Method kind (modules/capture/methods.ts). */
  kind: number;
  /** reader_name / pin_name value, "" when the method takes none. */
  parameter: string;
  frequencyHz: number;
  /** capsync `batch_bytes`: the RAM batch (one ring record) in bytes. */
  batchBytes: number;
  /** Flash sectors for this collector's ring (capsync `flash_sectors`, else Viam `cache_size_kb`, else `ring_sectors`). */
  flashSectors: number;
  /**
   * No `flash_sectors`, `cache_size_kb` or data_manager `ring_sectors` sized this ring: the capture
   * sizes a new one from the partition's free space by its byte rate (modules/capture/ring-sizing.ts);
   * `flashSectors` is then the size used with a store that cannot say how large its partition is.
   */
  autoSize: boolean;
  /** Viam: configured but not captured (its ring is kept so pending data still syncs). */
  disabled: boolean;
  additionalParams: Record<string, string>;
}

export interface CaptureSettings {
  dataManager: DataManagerSettings;
  /** Battery mode (modules/power/power-settings.ts); absent where settings are built by hand. */
  power?: PowerSettings;
  components: ComponentSettings[];
  collectors: CollectorSettings[];
  issues: ConfigIssue[];
}

/** The validated request budget in bytes: what a request buffer sized once is sized from. */
export function uploadBudgetBytes(dm: Pick<DataManagerSettings, "uploadBudgetKb">): number {
  return dm.uploadBudgetKb * 1024;
}

export function describeIssue(issue: ConfigIssue): string {
  let where = "config";
  if (issue.component !== undefined) where += `: component "${issue.component}"`;
  if (issue.method !== undefined) where += ` method "${issue.method}"`;
  return `${where}: ${issue.message}`;
}
