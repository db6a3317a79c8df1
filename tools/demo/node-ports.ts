/*
 * Node implementations of the small ports the simulated device needs beyond
 * flash and network: clock, Moddable-shaped timers, a key/value store kept in
 * a JSON file (the device's NVS), and a logger that keeps recent lines for the
 * status view.
 */
import * as fs from "node:fs";
import type { Clock, KeyValueStore, Logger, TimerId, Timers } from "../../modules/ports.ts";

/** Monotonic time from performance.now() (restarts at zero per device boot, like a real board). */
export class NodeClock implements Clock {
  private readonly origin = performance.now();
  monotonic(): number {
    return performance.now() - this.origin;
  }
  wall(): number {
    return Date.now();
  }
}

interface NodeTimer {
  handle: NodeJS.Timeout | undefined;
  callback: () => void;
}

/**
 * Moddable's timer semantics on Node: `set(cb, delay, repeat)` fires once
 * after `delay` then every `repeat`; `schedule` re-arms; `clear` cancels.
 * Every live timer is tracked so a device "power cut" can kill them all.
 */
export class NodeTimers implements Timers {
  private readonly live = new Set<NodeTimer>();
  private halted = false;

  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    const timer: NodeTimer = { handle: undefined, callback };
    // A halted CPU runs nothing: code still unwinding after a power cut may ask for timers, they never fire.
    if (this.halted) return timer;
    this.live.add(timer);
    this.arm(timer, delayMs, repeatMs);
    return timer;
  }

  clear(id: TimerId): void {
    const timer = id as NodeTimer | undefined;
    if (!timer) return;
    this.disarm(timer);
    this.live.delete(timer);
  }

  /** Power off: cancels every timer and refuses new ones, for good. */
  halt(): void {
    this.halted = true;
    for (const timer of this.live) this.disarm(timer);
    this.live.clear();
  }

  get count(): number {
    return this.live.size;
  }

  private arm(timer: NodeTimer, delayMs: number, repeatMs: number | undefined): void {
    const fire = () => {
      if (repeatMs === undefined || repeatMs <= 0) {
        this.live.delete(timer);
        timer.handle = undefined;
      }
      timer.callback();
    };
    timer.handle = setTimeout(
      () => {
        if (repeatMs !== undefined && repeatMs > 0)
          timer.handle = setInterval(() => timer.callback(), repeatMs);
        fire();
      },
      Math.max(0, delayMs),
    );
  }

  private disarm(timer: NodeTimer): void {
    if (timer.handle !== undefined) {
      clearTimeout(timer.handle);
      clearInterval(timer.handle);
      timer.handle = undefined;
    }
  }
}

/** The device's NVS as a JSON file; written through on every change (writes are rare: sync points live in flash). */
export class JsonFileKeyValueStore implements KeyValueStore {
  private readonly path: string;
  private readonly values: Record<string, string>;

  constructor(path: string) {
    this.path = path;
    this.values = {};
    if (fs.existsSync(path)) {
      const parsed: unknown = JSON.parse(fs.readFileSync(path, "utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error(`${path}: expected a JSON object of string values`);
      }
      for (const [key, value] of Object.entries(parsed))
        if (typeof value === "string") this.values[key] = value;
    }
  }

  get(key: string): string | undefined {
    return this.values[key];
  }

  set(key: string, value: string): void {
    if (key.length > 15) throw new Error(`key "${key}" is longer than NVS allows (15 characters)`);
    if (value.length > 4000) throw new Error(`value for "${key}" is longer than NVS allows (4000 bytes)`);
    this.values[key] = value;
    this.persist();
  }

  delete(key: string): void {
    delete this.values[key];
    this.persist();
  }

  private persist(): void {
    // Write then rename: a crash never leaves a half-written file.
    const temp = `${this.path}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(this.values, null, 1));
    fs.renameSync(temp, this.path);
  }
}

/** Keeps the newest lines for the status view; optionally mirrors them to a sink (stderr without a TTY). */
export class RecentLog implements Logger {
  private readonly lines: string[] = [];
  private readonly keep: number;
  private readonly prefix: string;
  sink: ((line: string) => void) | undefined;

  constructor(keep = 50, prefix = "") {
    this.keep = keep;
    this.prefix = prefix;
  }

  info(message: string): void {
    this.add("info", message);
  }
  warn(message: string): void {
    this.add("warn", message);
  }
  error(message: string): void {
    this.add("error", message);
  }

  /** A logger writing into the same buffer with a different prefix ("device", "cloud"…). */
  child(prefix: string): Logger {
    return {
      info: (m) => this.add("info", m, prefix),
      warn: (m) => this.add("warn", m, prefix),
      error: (m) => this.add("error", m, prefix),
    };
  }

  recent(n: number): string[] {
    return this.lines.slice(-n);
  }

  private add(level: string, message: string, prefix = this.prefix): void {
    const time = new Date().toISOString().slice(11, 19);
    const line = `${time} ${level === "info" ? "" : `${level.toUpperCase()} `}${prefix ? `${prefix}: ` : ""}${message}`;
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
    this.sink?.(line);
  }
}
