/*
 * Viam machine config (the JSON/Struct shape the cloud serves, decoded to
 * plain objects) → validated capture and sync settings.
 *
 * Every entry is checked on its own: a bad capture method, a bad component or
 * a second data_manager service produces an issue naming what is wrong, and
 * everything valid is kept (the reference implementation drops the whole
 * machine on one bad entry). Nothing here throws, whatever it is given: any
 * JSON value (and any other value) yields settings and issues, every number,
 * string and list is checked against its bound (./limits.ts), and no message
 * is formatted by code that could recurse or run the input's own methods.
 */
import { ALL_METHOD_NAMES, COMPONENT_APIS, methodSpec } from "../capture/methods";
import { ringKey } from "../capture/ring-key";
import { MIN_RING_SECTORS } from "../capture/ring-sizing";
import { POWER_ATTRIBUTES, parsePowerAttributes } from "../power/power-settings";
import { layoutRecordBytes } from "../storage/layout-record";
import { ringSectorsFor } from "../storage/sizing";
import {
  MAX_ADDITIONAL_PARAMS,
  MAX_ATTRIBUTE_DEPTH,
  MAX_ATTRIBUTE_NODES,
  MAX_ATTRIBUTE_STRING_LENGTH,
  MAX_CACHE_SIZE_KB,
  MAX_CAPTURE_FREQUENCY_HZ,
  MAX_CAPTURE_METHODS,
  MAX_COLLECTORS,
  MAX_COMPONENTS,
  MAX_CONFIG_POLL_INTERVAL_MINS,
  MAX_ERASE_STALL_MS,
  MAX_FLUSH_INTERVAL_SECS,
  MAX_MODEL_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARAM_LENGTH,
  MAX_RING_SECTORS,
  MAX_SERVICES,
  MAX_SYNC_INTERVAL_MINS,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  MAX_UPLOAD_BUDGET_KB,
  MIN_CAPTURE_FREQUENCY_HZ,
  MIN_CONFIG_POLL_INTERVAL_MINS,
  MIN_ERASE_STALL_MS,
  MIN_FLUSH_INTERVAL_SECS,
  MIN_SYNC_INTERVAL_MINS,
  MIN_UPLOAD_BUDGET_KB,
} from "./limits";
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

/** Unknown data_manager attributes each get a warning up to this many, then one for the rest. */
const MAX_UNKNOWN_WARNINGS = 8;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Longest rendering of a bad value in an issue. */
const SHOW_LENGTH = 60;

/**
 * A short rendering of any value for an issue message. Never recursive beyond
 * two levels, never calls the value's own methods (toString, toJSON, getters
 * of a JSON value cannot exist, but a caller may pass anything), never throws.
 */
function show(value: unknown): string {
  let text: string;
  try {
    text = render(value, 2);
  } catch {
    text = "an unreadable value";
  }
  return text.length > SHOW_LENGTH ? `${text.slice(0, SHOW_LENGTH - 3)}...` : text;
}

function render(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > SHOW_LENGTH ? value.slice(0, SHOW_LENGTH) : value);
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return String(value);
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  const list = Array.isArray(value);
  const parts: string[] = [];
  let size = 0;
  if (list) {
    const items = value as unknown[];
    if (depth === 0) return `[${items.length} items]`;
    for (let i = 0; i < items.length && size < SHOW_LENGTH; i++) {
      const part = render(items[i], depth - 1);
      parts.push(part);
      size += part.length + 1;
    }
    if (parts.length < items.length) parts.push("...");
    return `[${parts.join(",")}]`;
  }
  if (depth === 0) return "{...}";
  for (const key in value as Json) {
    if (size >= SHOW_LENGTH) {
      parts.push("...");
      break;
    }
    if (!hasOwn.call(value, key)) continue;
    const part = `${JSON.stringify(key.slice(0, SHOW_LENGTH))}:${render((value as Json)[key], depth - 1)}`;
    parts.push(part);
    size += part.length + 1;
  }
  return `{${parts.join(",")}}`;
}

/** Why `attributes` (a component's, for its driver) is out of bounds, or "". Iterative: no recursion on input. */
function attributesProblem(attributes: Json): string {
  const stack: unknown[] = [attributes];
  const depths: number[] = [1];
  let nodes = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    const depth = depths.pop()!;
    if (++nodes > MAX_ATTRIBUTE_NODES) return `more than ${MAX_ATTRIBUTE_NODES} values`;
    if (typeof value === "string") {
      if (value.length > MAX_ATTRIBUTE_STRING_LENGTH)
        return `a string longer than ${MAX_ATTRIBUTE_STRING_LENGTH} characters`;
      continue;
    }
    if (value === null || typeof value === "number" || typeof value === "boolean") continue;
    if (typeof value !== "object") return `a ${typeof value}, which JSON cannot hold`;
    if (depth > MAX_ATTRIBUTE_DEPTH) return `nesting deeper than ${MAX_ATTRIBUTE_DEPTH} levels`;
    if (Array.isArray(value)) {
      if (value.length > MAX_ATTRIBUTE_NODES) return `more than ${MAX_ATTRIBUTE_NODES} values`;
      for (let i = 0; i < value.length; i++) {
        stack.push(value[i]);
        depths.push(depth + 1);
      }
    } else {
      let keys = 0;
      for (const key in value as Json) {
        if (!hasOwn.call(value, key)) continue;
        if (++keys > MAX_ATTRIBUTE_NODES) return `more than ${MAX_ATTRIBUTE_NODES} values`;
        if (key.length > MAX_ATTRIBUTE_STRING_LENGTH)
          return `a key longer than ${MAX_ATTRIBUTE_STRING_LENGTH} characters`;
        stack.push((value as Json)[key]);
        depths.push(depth + 1);
      }
    }
  }
  return "";
}

/** A list's first `max` entries; what is beyond gets one issue. */
function bounded(
  list: unknown[],
  max: number,
  what: string,
  issues: ConfigIssue[],
  component?: string,
): unknown[] {
  if (list.length <= max) return list;
  issues.push({
    severity: "error",
    ...(component !== undefined ? { component } : {}),
    message: `${what} has ${list.length} entries; only the first ${max} are used`,
  });
  return list.slice(0, max);
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

/** Parse a whole machine config. Never throws: whatever `config` is, the result says what was wrong with it. */
export function parseMachineConfig(config: unknown): CaptureSettings {
  const issues: ConfigIssue[] = [];
  const dataManager: DataManagerSettings = { ...DATA_MANAGER_DEFAULTS, tags: [] };
  const components: ComponentSettings[] = [];
  const collectors: CollectorSettings[] = [];
  const result: CaptureSettings = { dataManager, components, collectors, issues };
  try {
    parseInto(config, result);
  } catch (error) {
    // Only a value JSON cannot produce gets here (a getter or proxy that throws, a revoked proxy):
    // nothing of it is used.
    const fresh: CaptureSettings = {
      dataManager: { ...DATA_MANAGER_DEFAULTS, tags: [] },
      components: [],
      collectors: [],
      issues: [],
    };
    fresh.issues.push({
      severity: "error",
      message: `the machine config could not be read (${errorText(error)}); nothing of it is used`,
    });
    return fresh;
  }
  return result;
}

function errorText(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === "string")
      return error.message.slice(0, SHOW_LENGTH);
  } catch {
    // fall through
  }
  return show(error);
}

function parseInto(config: unknown, result: CaptureSettings): void {
  const { dataManager, components, collectors, issues } = result;
  if (!isObject(config)) {
    issues.push({ severity: "error", message: `the machine config is not an object (got ${show(config)})` });
    return;
  }

  // Services: exactly one data_manager is used; a second is reported and ignored.
  const services = config.services ?? [];
  if (!Array.isArray(services)) issues.push({ severity: "error", message: "services must be an array" });
  else {
    let found: string | undefined;
    bounded(services, MAX_SERVICES, "services", issues).forEach((service, index) => {
      if (!isObject(service)) {
        issues.push({ severity: "error", message: `services[${index}] is not an object` });
        return;
      }
      if (resolveApi(service, "service") !== DATA_MANAGER_API) return;
      let name = `services[${index}]`;
      if (typeof service.name === "string" && service.name.length <= MAX_NAME_LENGTH) name = service.name;
      else if (service.name !== undefined) {
        issues.push({
          severity: "error",
          message: `data_manager service name must be a string of at most ${MAX_NAME_LENGTH} characters (got ${show(service.name)}); called ${name}`,
        });
      }
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
    return;
  }
  const seenNames = new Set<string>();
  const layout: LayoutBudget = { bytes: layoutRecordBytes([]) };
  bounded(list, MAX_COMPONENTS, "components", issues).forEach((entry, index) => {
    if (!isObject(entry)) {
      issues.push({ severity: "error", message: `components[${index}] is not an object` });
      return;
    }
    const name = entry.name;
    if (typeof name !== "string" || name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
      issues.push({
        severity: "error",
        message: `components[${index}] has no valid name (got ${show(name)}; up to ${MAX_NAME_LENGTH} letters, digits, "_", "-", "." only)`,
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
    const dmConfigs = bounded(serviceConfigs, MAX_SERVICES, "service_configs", issues, name).filter(
      (s) => isObject(s) && isDataManagerType(s.type ?? s.api),
    );
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
    if (typeof model !== "string" || model === "" || model.length > MAX_MODEL_LENGTH) {
      issues.push({
        severity: "error",
        component: name,
        message: `model must be a non-empty string of at most ${MAX_MODEL_LENGTH} characters (got ${show(model)})`,
      });
      return;
    }
    const attributes = entry.attributes ?? {};
    if (!isObject(attributes)) {
      issues.push({ severity: "error", component: name, message: "attributes must be an object" });
      return;
    }
    const problem = attributesProblem(attributes);
    if (problem !== "") {
      issues.push({ severity: "error", component: name, message: `attributes hold ${problem}` });
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
    parseCaptureMethods(dmConfigs[0] as Json, { name, api, model }, dataManager, collectors, layout, issues);
    if (collectors.length > before) components.push({ name, api, model, attributes });
  });
}

/** What one more ring adds to the store's layout record. */
function ringEntryBytes(key: string): number {
  return layoutRecordBytes([{ key, ringId: 0, firstSector: 0, sectors: 0 }]) - layoutRecordBytes([]);
}

/** Bytes the store's one-sector layout record would take with the collectors accepted so far. */
interface LayoutBudget {
  bytes: number;
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
  /** A number in [min, max] (an integer if `integer`); anything else keeps the default. */
  const ranged = (
    attribute: string,
    min: number,
    max: number,
    integer: boolean,
    apply: (v: number) => void,
  ) => {
    const value = attributes[attribute];
    if (value === undefined) return;
    if (
      typeof value !== "number" ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    )
      bad(attribute, `${integer ? "an integer" : "a number"} from ${min} to ${max}`, value);
    else apply(value);
  };
  const flag = (attribute: string, apply: (v: boolean) => void) => {
    const value = attributes[attribute];
    if (value === undefined) return;
    if (typeof value !== "boolean") bad(attribute, "true or false", value);
    else apply(value);
  };
  ranged(
    "sync_interval_mins",
    MIN_SYNC_INTERVAL_MINS,
    MAX_SYNC_INTERVAL_MINS,
    false,
    (v) => (dm.syncIntervalMins = v),
  );
  flag("sync_disabled", (v) => (dm.syncDisabled = v));
  flag("capture_disabled", (v) => (dm.captureDisabled = v));
  flag("retain_unsynced_on_reboot", (v) => (dm.retainUnsyncedOnReboot = v));
  ranged(
    "upload_budget_kb",
    MIN_UPLOAD_BUDGET_KB,
    MAX_UPLOAD_BUDGET_KB,
    true,
    (v) => (dm.uploadBudgetKb = v),
  );
  ranged(
    "flush_interval_secs",
    MIN_FLUSH_INTERVAL_SECS,
    MAX_FLUSH_INTERVAL_SECS,
    false,
    (v) => (dm.flushIntervalSecs = v),
  );
  ranged(
    "config_poll_interval_mins",
    MIN_CONFIG_POLL_INTERVAL_MINS,
    MAX_CONFIG_POLL_INTERVAL_MINS,
    false,
    (v) => (dm.configPollIntervalMins = v),
  );
  ranged("erase_stall_ms", MIN_ERASE_STALL_MS, MAX_ERASE_STALL_MS, false, (v) => (dm.eraseStallMs = v));
  ranged("ring_sectors", MIN_RING_SECTORS, MAX_RING_SECTORS, true, (v) => {
    dm.ringSectors = v;
    dm.ringSectorsSet = true;
  });
  const tags = attributes.tags;
  if (tags !== undefined) {
    if (
      !Array.isArray(tags) ||
      tags.length > MAX_TAGS ||
      !tags.every((t) => typeof t === "string" && t !== "" && t.length <= MAX_TAG_LENGTH)
    )
      bad(
        "tags",
        `an array of at most ${MAX_TAGS} non-empty strings of at most ${MAX_TAG_LENGTH} characters`,
        tags,
      );
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
  let unknown = 0;
  for (const key in attributes) {
    if (
      !hasOwn.call(attributes, key) ||
      known.has(key) ||
      IGNORED_VIAM_ATTRIBUTES.includes(key) ||
      POWER_ATTRIBUTES.includes(key)
    )
      continue;
    if (++unknown > MAX_UNKNOWN_WARNINGS) continue;
    issues.push({
      severity: "warning",
      message: `data_manager attribute ${show(key)} is not known to capsync; ignored`,
    });
  }
  if (unknown > MAX_UNKNOWN_WARNINGS) {
    issues.push({
      severity: "warning",
      message: `${unknown - MAX_UNKNOWN_WARNINGS} more data_manager attributes are not known to capsync; ignored`,
    });
  }
}

function parseCaptureMethods(
  serviceConfig: Json,
  component: { name: string; api: string; model: string },
  dm: DataManagerSettings,
  collectors: CollectorSettings[],
  layout: LayoutBudget,
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
  bounded(methods, MAX_CAPTURE_METHODS, "capture_methods", issues, name).forEach((entry, index) => {
    if (!isObject(entry)) {
      issues.push({
        severity: "error",
        component: name,
        message: `capture_methods[${index}] is not an object`,
      });
      return;
    }
    const method = entry.method;
    if (typeof method !== "string" || method === "" || method.length > MAX_NAME_LENGTH) {
      issues.push({
        severity: "error",
        component: name,
        message: `capture_methods[${index}]: method must be a non-empty string of at most ${MAX_NAME_LENGTH} characters (got ${show(method)})`,
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
    if (
      typeof hz !== "number" ||
      !Number.isFinite(hz) ||
      hz < MIN_CAPTURE_FREQUENCY_HZ ||
      hz > MAX_CAPTURE_FREQUENCY_HZ
    ) {
      fail(
        `capture_frequency_hz must be a number from ${MIN_CAPTURE_FREQUENCY_HZ} to ${MAX_CAPTURE_FREQUENCY_HZ} (got ${show(hz)})`,
      );
      return;
    }
    const params = entry.additional_params ?? {};
    if (!isObject(params)) {
      fail(`additional_params must be an object of strings (got ${show(params)})`);
      return;
    }
    const additionalParams: Record<string, string> = {};
    let count = 0;
    for (const key in params) {
      if (!hasOwn.call(params, key)) continue;
      if (++count > MAX_ADDITIONAL_PARAMS) {
        fail(`additional_params has more than ${MAX_ADDITIONAL_PARAMS} entries`);
        return;
      }
      const value = params[key];
      if (key === "__proto__" || key.length > MAX_NAME_LENGTH) {
        fail(`additional_params key ${show(key)} is not allowed (at most ${MAX_NAME_LENGTH} characters)`);
        return;
      }
      if (typeof value !== "string" || value.length > MAX_PARAM_LENGTH) {
        fail(
          `additional_params.${key} must be a string of at most ${MAX_PARAM_LENGTH} characters (got ${show(value)})`,
        );
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
      if (value.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(value)) {
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
      if (typeof cache !== "number" || !Number.isFinite(cache) || cache <= 0 || cache > MAX_CACHE_SIZE_KB) {
        fail(`cache_size_kb must be a number above 0, at most ${MAX_CACHE_SIZE_KB} (got ${show(cache)})`);
        return;
      }
      sectors = ringSectorsFor(cache, SECTOR_BYTES);
      autoSize = false;
    }
    const explicitSectors = entry.flash_sectors;
    if (explicitSectors !== undefined) {
      if (
        typeof explicitSectors !== "number" ||
        !Number.isInteger(explicitSectors) ||
        explicitSectors < MIN_RING_SECTORS ||
        explicitSectors > MAX_RING_SECTORS
      ) {
        fail(
          `flash_sectors must be an integer from ${MIN_RING_SECTORS} to ${MAX_RING_SECTORS} (got ${show(explicitSectors)})`,
        );
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
    if (collectors.length >= MAX_COLLECTORS) {
      fail(`more than ${MAX_COLLECTORS} capture methods in the machine: this one is ignored`);
      return;
    }
    const layoutBytes = layout.bytes + ringEntryBytes(key);
    if (layoutBytes > SECTOR_BYTES) {
      fail(
        "the flash layout record (one 4 KB sector) has no room left for this ring's key: this one is ignored",
      );
      return;
    }
    layout.bytes = layoutBytes;
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
