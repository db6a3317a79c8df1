/*
 * A capture under test (platform-free): fake clock + timers, an in-memory
 * store, simulated and scripted models, a logger that keeps lines, and
 * helpers to build Viam-shaped configs and decode what reached the ring.
 */
import { Capture } from "../../modules/capture/capture";
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { parseMachineConfig } from "../../modules/config/machine-config";
import type { CaptureSettings } from "../../modules/config/settings";
import type { KeyValueStore, Logger } from "../../modules/ports";
import { ProtoWriter } from "../../modules/proto/writer";
import type { RingStore } from "../../modules/storage/types";
import { FakeClock } from "./fake-clock";
import { MemoryStore } from "./memory-store";
import { SensorScript, testModels } from "./sensors";
import { type DecodedSensorData, decodeSensorDataFields } from "./sensors-decode";

export class LogLines implements Logger {
  lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
  matching(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}

export class MemoryKv implements KeyValueStore {
  map = new Map<string, string>();
  writes = 0;
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.writes++;
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export interface MethodEntry {
  method: string;
  capture_frequency_hz: number;
  additional_params?: Record<string, string>;
  disabled?: boolean;
  cache_size_kb?: number;
  flash_sectors?: number;
  batch_bytes?: number;
}

export interface ComponentEntry {
  name: string;
  api: string;
  model: string;
  attributes?: Record<string, unknown>;
  methods: MethodEntry[];
}

/** A Viam-shaped machine config. */
export function machineConfig(
  components: ComponentEntry[],
  dmAttributes: Record<string, unknown> = {},
): unknown {
  return {
    services: [
      { name: "data_manager", api: "rdk:service:data_manager", model: "builtin", attributes: dmAttributes },
    ],
    components: components.map((c) => ({
      name: c.name,
      api: c.api,
      model: c.model,
      attributes: c.attributes ?? {},
      service_configs: [{ type: "data_manager", attributes: { capture_methods: c.methods } }],
    })),
  };
}

export const WALL_START_MS = Date.UTC(2024, 0, 1);

export class CaptureRig {
  readonly clock: FakeClock;
  readonly script: SensorScript;
  readonly log = new LogLines();
  readonly capture: Capture;

  constructor(
    readonly store: RingStore = new MemoryStore(),
    /** null: run without a key/value store. */
    readonly kv: KeyValueStore | null = new MemoryKv(),
    clock?: FakeClock,
  ) {
    this.clock = clock ?? CaptureRig.validClock();
    this.script = new SensorScript(this.clock);
    this.capture = new Capture({
      store,
      clock: this.clock,
      timers: this.clock,
      log: this.log,
      registry: testModels(this.script),
      ...(kv ? { kv } : {}),
    });
  }

  /** A fake clock whose wall clock is valid from the start (2024-01-01T00:00:00Z at monotonic 1000). */
  static validClock(): FakeClock {
    const clock = new FakeClock(1000);
    clock.setWall(WALL_START_MS);
    return clock;
  }

  settings(components: ComponentEntry[], dmAttributes: Record<string, unknown> = {}): CaptureSettings {
    return parseMachineConfig(machineConfig(components, dmAttributes));
  }

  apply(components: ComponentEntry[], dmAttributes: Record<string, unknown> = {}) {
    return this.capture.apply(this.settings(components, dmAttributes));
  }

  stats(key: string) {
    const s = this.capture.stats().find((c) => c.key === key);
    if (!s) throw new Error(`no collector ${key}`);
    return s;
  }

  /** Every reading in `key`'s ring (after its sync point), decoded. */
  stored(key: string, transcoder = this.capture): DecodedSensorData[] {
    const ring = this.store.ring(key);
    if (!ring) return [];
    const out: DecodedSensorData[] = [];
    let after: number | undefined;
    for (;;) {
      const chunk = ring.read(1 << 20, after);
      if (!chunk) break;
      for (const record of chunk.records) {
        const w = new ProtoWriter(4096);
        const n = transcoder.writeSensorData(record, w, 2);
        if (n < 0) throw new Error(`record in ${key} cannot be placed in time yet`);
        const decoded = decodeSensorDataFields(w.finish(), 2);
        if (decoded.length !== n) throw new Error(`transcoder said ${n} readings, wrote ${decoded.length}`);
        out.push(...decoded);
      }
      after = chunk.lastSeq;
    }
    return out;
  }
}

export { SensorDataTranscoder };
