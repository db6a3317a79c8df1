// Platform-free stand-ins for the boot-sequence tests (both lanes): an in-memory
// NVS, a WiFi link the test drives, a cloud whose answers the test scripts, and
// a data plane that records what it was told to run.
import type {
  CloudConfigSource,
  DataPlane,
  FetchedConfig,
  InterpretConfig,
} from "../../modules/app/contracts";
import type { LinkEvent, NetworkLink } from "../../modules/app/network-supervisor";
import type { KeyValueStore, Logger } from "../../modules/ports";

export class MemoryKv implements KeyValueStore {
  readonly map = new Map<string, string>();
  get(key: string): string | undefined {
    if (key.length > 15) throw new Error(`NVS key "${key}" longer than 15 characters`);
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    if (key.length > 15) throw new Error(`NVS key "${key}" longer than 15 characters`);
    if (value.length > 4000) throw new Error("NVS value longer than 4000 bytes");
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export const PART_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

export function provisionedKv(withWifi = true): MemoryKv {
  const kv = new MemoryKv();
  kv.set("part_id", PART_ID);
  kv.set("part_secret", "s3cret-value");
  kv.set("app_address", "https://app.viam.com:443");
  if (withWifi) {
    kv.set("wifi_ssid", "shed");
    kv.set("wifi_password", "pw");
  }
  return kv;
}

export class ScriptedLink implements NetworkLink {
  listener: ((event: LinkEvent) => void) | undefined;
  starts = 0;
  retries = 0;
  closed = false;
  start(listener: (event: LinkEvent) => void): void {
    this.listener = listener;
    this.starts++;
  }
  retry(): void {
    this.retries++;
  }
  close(): void {
    this.closed = true;
  }
  emit(event: LinkEvent): void {
    this.listener?.(event);
  }
}

/** A cloud whose next answers the test queues; with nothing queued it serves `current`. */
export class ScriptedCloud implements CloudConfigSource {
  current: FetchedConfig | undefined;
  failWith: Error | undefined;
  calls = 0;
  fetchConfig(): Promise<FetchedConfig> {
    this.calls++;
    if (this.failWith) return Promise.reject(this.failWith);
    if (!this.current) return Promise.reject(new Error("no config"));
    return Promise.resolve(structuredCopy(this.current));
  }
}

function structuredCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Settings in these tests: collector name → Hz. */
export type TestSettings = Record<string, number>;

/**
 * A toy validator with the real one's contract: entries with a positive
 * number run, others are reported; a config that is not an object with a
 * `collectors` object is unusable as a whole.
 */
export const interpretTest: InterpretConfig<TestSettings> = (config) => {
  const collectors = (config as { collectors?: unknown } | null)?.collectors;
  if (typeof collectors !== "object" || collectors === null) {
    return { settings: null, errors: ["config has no collectors object"] };
  }
  const settings: TestSettings = {};
  const errors: string[] = [];
  for (const [name, hz] of Object.entries(collectors as Record<string, unknown>)) {
    if (typeof hz === "number" && hz > 0) settings[name] = hz;
    else errors.push(`collector ${name}: capture_frequency_hz ${String(hz)} is not positive`);
  }
  return { settings, errors };
};

export class RecordingData implements DataPlane<TestSettings> {
  applied: TestSettings[] = [];
  syncNows = 0;
  closed = false;
  get running(): TestSettings | undefined {
    return this.applied[this.applied.length - 1];
  }
  apply(settings: TestSettings): void {
    this.applied.push(settings);
  }
  syncNow(): void {
    this.syncNows++;
  }
  close(): void {
    this.closed = true;
  }
}

export class RecordingLog implements Logger {
  lines: string[] = [];
  info(message: string): void {
    this.lines.push(`I ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`W ${message}`);
  }
  error(message: string): void {
    this.lines.push(`E ${message}`);
  }
  has(level: "I" | "W" | "E", pattern: RegExp): boolean {
    return this.lines.some((line) => line.startsWith(level) && pattern.test(line));
  }
}

/** Let settled promises run their callbacks (the fake cloud answers in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
