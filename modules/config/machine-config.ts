/*
 * Viam machine config (the JSON/Struct shape the cloud serves, decoded to
 * plain objects) → validated capture and sync settings.
 *
 * Every entry is checked on its own: a bad capture method, a bad component or
 * a second data_manager service produces an issue naming what is wrong, and
 * everything valid is kept (the reference implementation drops the whole
 * machine on one bad entry). Nothing here throws on bad input.
 */
import { ALL_METHOD_NAMES, COMPONENT_APIS, methodSpec } from "../capture/methods";
import { ringKey } from "../capture/ring-key";
import { POWER_ATTRIBUTES, parsePowerAttributes } from "../power/power-settings";
import { ringSectorsFor } from "../storage/sizing";
import {
  type CaptureSettings,
  type CollectorSettings,
  type ComponentSettings,
  type ConfigIssue,
  DATA_MANAGER_DEFAULTS,
  type DataManagerSettings,
} from "./settings";

export const DATA_MANAGER_API = "rdk:service:data_manager";
/** ESP32 SPI NOR sector size: ring sizes are whole sectors. */
const SECTOR_BYTES = 4096;
/**
 * RAM batch (capsync's `batch_bytes`): a batch becomes one ring record, and a
 * record must fit in one 4 KB flash sector with the store's headers (28-byte
 * sector header, 12-byte frame header, 2-byte length). The default packs four
 * batches per sector with nothing wasted; 2020 packs two; 4000 one.
 */
export const DEFAULT_BATCH_BYTES = 1000;
export const MIN_BATCH_BYTES = 64;
export const MAX_BATCH_BYTES = 4000;

/** Viam data_manager attributes that mean nothing on a device without a filesystem: accepted, ignored. */
const IGNORED_VIAM_ATTRIBUTES = [
  "capture_dir",
  "additional_sync_paths",
  "maximum_num_sync_threads",
  "delete_every_nth_when_disk_full",
  "file_last_modified_millis",
  "maximum_capture_file_size_bytes",
  "selective_syncer_name",
  "sync_thread_count",
  "mongo_capture_config",
  "disk_usage_deletion_threshold",
  "capture_disabled_for_existing_files",
];

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/** "rdk:component:sensor" from either `api` or `type` (+ `namespace`, default "rdk"). */
function resolveApi(entry: Json, kind: "component" | "service"): string | undefined {
  if (typeof entry.api === "string" && entry.api !== "") return entry.api;
  if (typeof entry.type === "string" && entry.type !== "") {
    const namespace = typeof entry.namespace === "string" && entry.namespace !== "" ? entry.namespace : "rdk";
    return entry.type.includes(":") ? entry.type : `${namespace}:${kind}:${entry.type}`;
  }
  return undefined;
}

function isDataManagerType(value: unknown): boolean {
  return value === "data_manager" || value === DATA_MANAGER_API;
}

/** Parse a whole machine config. */
export function parseMachineConfig(config: unknown): CaptureSettings {
  const issues: ConfigIssue[] = [];
  const dataManager: DataManagerSettings = { ...DATA_MANAGER_DEFAULTS, tags: [] };
  const components: ComponentSettings[] = [];
  const collectors: CollectorSettings[] = [];
  const result: CaptureSettings = { dataManager, components, collectors, issues };
  if (!isObject(config)) {
    issues.push({ severity: "error", message: `the machine config is not an object (got ${show(config)})` });
    return result;
  }

  // Services: exactly one data_manager is used; a second is reported and ignored.
  const services = config.services ?? [];
  if (!Array.isArray(services)) issues.push({ severity: "error", message: "services must be an array" });
  else {
    let found: string | undefined;
    services.forEach((service, index) => {
      if (!isObject(service)) {
        issues.push({ severity: "error", message: `services[${index}] is not an object` });
        return;
      }
      if (resolveApi(service, "service") !== DATA_MANAGER_API) return;
      const name = typeof service.name === "string" ? service.name : `services[${index}]`;
      if (found !== undefined) {
        issues.push({
          severity: "error",
          message: `second data_manager service "${name}" ignored: only one is allowed ("${found}" is used)`,
        });
        return;
      }
      found = name;
      dataManager.name = name;
      parseDataManagerAttributes(service.attributes ?? {}, dataManager, issues);
      result.power = parsePowerAttributes(service.attributes ?? {}, issues);
    });
  }

  // Components with data_manager service_configs.
  const list = config.components ?? [];
  if (!Array.isArray(list)) {
    issues.push({ severity: "error", message: "components must be an array" });
    return result;
  }
  const seenNames = new Set<string>();
  list.forEach((entry, index) => {
    if (!isObject(entry)) {
      issues.push({ severity: "error", message: `components[${index}] is not an object` });
      return;
    }
    const name = entry.name;
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      issues.push({
        severity: "error",
        message: `components[${index}] has no valid name (got ${show(name)}; letters, digits, "_", "-", "." only)`,
      });
      return;
    }
    if (seenNames.has(name)) {
      issues.push({
        severity: "error",
        component: name,
        message: "a second component with this name is ignored",
      });
      return;
    }
    seenNames.add(name);
    const serviceConfigs = entry.service_configs ?? [];
    if (!Array.isArray(serviceConfigs)) {
      issues.push({ severity: "error", component: name, message: "service_configs must be an array" });
      return;
    }
    const dmConfigs = serviceConfigs.filter((s) => isObject(s) && isDataManagerType(s.type ?? s.api));
    if (dmConfigs.length === 0) return;
    const api = resolveApi(entry, "component");
    if (!api || !COMPONENT_APIS.includes(api)) {
      issues.push({
        severity: "error",
        component: name,
        message: `cannot capture from component type ${show(api ?? entry.type)}: capsync captures ${COMPONENT_APIS.join(", ")}`,
      });
      return;
    }
    const model = entry.model;
    if (typeof model !== "string" || model === "") {
      issues.push({
        severity: "error",
        component: name,
        message: `model must be a non-empty string (got ${show(model)})`,
      });
      return;
    }
    const attributes = entry.attributes ?? {};
    if (!isObject(attributes)) {
      issues.push({ severity: "error", component: name, message: "attributes must be an object" });
      return;
    }
    if (dmConfigs.length > 1) {
      issues.push({
        severity: "error",
        component: name,
        message: "more than one data_manager service_config: only the first is used",
      });
    }
    const before = collectors.length;
    parseCaptureMethods(dmConfigs[0] as Json, { name, api, model }, dataManager, collectors, issues);
    if (collectors.length > before) components.push({ name, api, model, attributes });
  });
  return result;
}

function parseDataManagerAttributes(
  attributes: unknown,
  dm: DataManagerSettings,
  issues: ConfigIssue[],
): void {
  if (!isObject(attributes)) {
    issues.push({ severity: "error", message: "data_manager attributes must be an object; defaults used" });
    return;
  }
  const bad = (attribute: string, want: string, value: unknown) =>
    issues.push({
      severity: "error",
      message: `data_manager attribute ${attribute} must be ${want} (got ${show(value)}); default kept`,
    });
  const positive = (attribute: string, apply: (v: number) => void) => {
    const value = attributes[attribute];
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      bad(attribute, "a positive number", value);
    else apply(value);
  };
  const flag = (attribute: string, apply: (v: boolean) => void) => {
    const value = attributes[attribute];
    if (value === undefined) return;
    if (typeof value !== "boolean") bad(attribute, "true or false", value);
    else apply(value);
  };
  positive("sync_interval_mins", (v) => (dm.syncIntervalMins = v));
  flag("sync_disabled", (v) => (dm.syncDisabled = v));
  flag("capture_disabled", (v) => (dm.captureDisabled = v));
  flag("retain_unsynced_on_reboot", (v) => (dm.retainUnsyncedOnReboot = v));
  positive("upload_budget_kb", (v) => (dm.uploadBudgetKb = v));
  positive("flush_interval_secs", (v) => (dm.flushIntervalSecs = v));
  positive("config_poll_interval_mins", (v) => (dm.configPollIntervalMins = v));
  positive("erase_stall_ms", (v) => (dm.eraseStallMs = v));
  const sectors = attributes.ring_sectors;
  if (sectors !== undefined) {
    if (typeof sectors !== "number" || !Number.isInteger(sectors) || sectors < 2) {
      bad("ring_sectors", "an integer ≥ 2", sectors);
    } else {
      dm.ringSectors = sectors;
      dm.ringSectorsSet = true;
    }
  }
  const tags = attributes.tags;
  if (tags !== undefined) {
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string"))
      bad("tags", "an array of strings", tags);
    else dm.tags = [...tags];
  }
  const known = new Set([
    "sync_interval_mins",
    "sync_disabled",
    "capture_disabled",
    "tags",
    "retain_unsynced_on_reboot",
    "upload_budget_kb",
    "flush_interval_secs",
    "config_poll_interval_mins",
    "ring_sectors",
    "erase_stall_ms",
  ]);
  for (const key of Object.keys(attributes)) {
    if (known.has(key) || IGNORED_VIAM_ATTRIBUTES.includes(key) || POWER_ATTRIBUTES.includes(key)) continue;
    issues.push({
      severity: "warning",
      message: `data_manager attribute ${key} is not known to capsync; ignored`,
    });
  }
}

function parseCaptureMethods(
  serviceConfig: Json,
  component: { name: string; api: string; model: string },
  dm: DataManagerSettings,
  collectors: CollectorSettings[],
  issues: ConfigIssue[],
): void {
  const attributes = serviceConfig.attributes ?? {};
  const name = component.name;
  if (!isObject(attributes)) {
    issues.push({
      severity: "error",
      component: name,
      message: "data_manager service_config attributes must be an object",
    });
    return;
  }
  const methods = attributes.capture_methods ?? [];
  if (!Array.isArray(methods)) {
    issues.push({ severity: "error", component: name, message: "capture_methods must be an array" });
    return;
  }
  const keys = new Set<string>();
  methods.forEach((entry, index) => {
    if (!isObject(entry)) {
      issues.push({
        severity: "error",
        component: name,
        message: `capture_methods[${index}] is not an object`,
      });
      return;
    }
    const method = entry.method;
    if (typeof method !== "string" || method === "") {
      issues.push({
        severity: "error",
        component: name,
        message: `capture_methods[${index}]: method must be a non-empty string (got ${show(method)})`,
      });
      return;
    }
    const fail = (message: string) => issues.push({ severity: "error", component: name, method, message });
    const spec = methodSpec(component.api, method);
    if (!spec) {
      if (ALL_METHOD_NAMES.includes(method)) fail(`${component.api} has no method ${method}`);
      else fail(`unknown method (capsync knows ${ALL_METHOD_NAMES.join(", ")})`);
      return;
    }
    const disabled = entry.disabled ?? false;
    if (typeof disabled !== "boolean") {
      fail(`disabled must be true or false (got ${show(disabled)})`);
      return;
    }
    const hz = entry.capture_frequency_hz;
    if (typeof hz !== "number" || !Number.isFinite(hz) || hz <= 0) {
      fail(`capture_frequency_hz must be a positive number (got ${show(hz)})`);
      return;
    }
    const params = entry.additional_params ?? {};
    if (!isObject(params)) {
      fail(`additional_params must be an object of strings (got ${show(params)})`);
      return;
    }
    const additionalParams: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== "string") {
        fail(`additional_params.${key} must be a string (got ${show(value)})`);
        return;
      }
      additionalParams[key] = value;
    }
    let parameter = "";
    if (spec.requiredParam) {
      const value = additionalParams[spec.requiredParam];
      if (value === undefined || value === "") {
        fail(`additional_params.${spec.requiredParam} is required`);
        return;
      }
      if (!NAME_PATTERN.test(value)) {
        fail(`additional_params.${spec.requiredParam} ${show(value)} is not a valid name`);
        return;
      }
      parameter = value;
    }
    // Ring size: capsync's flash_sectors, else Viam's cache_size_kb (in viam-micro-server the buffer
    // that holds the method's unsynced data; here that is the flash ring), else ring_sectors, else
    // automatic (sized by the capture from the partition).
    let sectors = dm.ringSectors;
    let autoSize = !dm.ringSectorsSet;
    const cache = entry.cache_size_kb;
    if (cache !== undefined) {
      if (typeof cache !== "number" || !Number.isFinite(cache) || cache <= 0) {
        fail(`cache_size_kb must be a positive number (got ${show(cache)})`);
        return;
      }
      sectors = ringSectorsFor(cache, SECTOR_BYTES);
      autoSize = false;
    }
    const explicitSectors = entry.flash_sectors;
    if (explicitSectors !== undefined) {
      if (typeof explicitSectors !== "number" || !Number.isInteger(explicitSectors) || explicitSectors < 2) {
        fail(`flash_sectors must be an integer ≥ 2 (got ${show(explicitSectors)})`);
        return;
      }
      sectors = explicitSectors;
      autoSize = false;
    }
    const batch = entry.batch_bytes ?? DEFAULT_BATCH_BYTES;
    if (
      typeof batch !== "number" ||
      !Number.isInteger(batch) ||
      batch < MIN_BATCH_BYTES ||
      batch > MAX_BATCH_BYTES
    ) {
      fail(`batch_bytes must be an integer in [${MIN_BATCH_BYTES}, ${MAX_BATCH_BYTES}] (got ${show(batch)})`);
      return;
    }
    const key = ringKey(component.api, name, method, parameter);
    if (keys.has(key)) {
      fail(`configured twice${parameter ? ` for ${parameter}` : ""}: the second entry is ignored`);
      return;
    }
    keys.add(key);
    collectors.push({
      key,
      componentType: component.api,
      componentName: name,
      model: component.model,
      method,
      kind: spec.kind,
      parameter,
      frequencyHz: hz,
      batchBytes: batch,
      flashSectors: sectors,
      autoSize,
      disabled,
      additionalParams,
    });
  });
}
