/*
 * Capture: builds components and collectors from validated settings, drives
 * them all from ONE repeating timer, writes full or aged RAM batches to the
 * ring store, erases flash ahead where a stall costs least, and turns stored
 * blocks back into SensorData for sync.
 *
 * Reconfigure (`apply`) keeps every collector whose key, component and batch
 * size are unchanged — its RAM batch and ring stay as they are, only its
 * schedule changes. Collectors that leave or change are flushed first. Rings
 * of collectors that left keep their pending data until it is synced.
 */
import {
  type CaptureSettings,
  type ConfigIssue,
  DATA_MANAGER_DEFAULTS,
  describeIssue,
} from "../config/settings";
import type { Clock, KeyValueStore, Logger, TimerId, Timers } from "../ports";
import type { ProtoWriter } from "../proto/writer";
import type { RingLayoutEntry, RingStore } from "../storage/types";
import { BootTimeline } from "./boot-timeline";
import { Collector, type CollectorHost, type CollectorStats, FIFO_DRAIN_MS } from "./collector";
import type { AnalogReader, Component, GpioPin } from "./component";
import { KIND_ANALOG, KIND_GPIO, methodSpec } from "./methods";
import type { ModelRegistry } from "./registry";
import { type CollectorIdentity, parseRingKey } from "./ring-key";
import { estimatedFlashBytesPerReading, planRings, type RingDemand } from "./ring-sizing";
import { blockTimes, SensorDataTranscoder } from "./transcoder";

/** The sampler's timer never sleeps longer than this (flush interval and clock checks need ticks). */
export const MAX_TICK_MS = 100;
/** Erase-ahead keeps room for this many batches per ring. */
export const ERASE_AHEAD_BATCHES = 2;
/** Read size when scanning the rings at start-up. */
const SCAN_CHUNK_BYTES = 16 * 1024;
/** Per-record framing the store may add (generous bound, for erase-ahead sizing). */
const RECORD_OVERHEAD = 32;

export interface CapturePorts {
  store: RingStore;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Persists the boot timeline (timestamp correction across reboots). Optional: without it, only this boot's readings are placed exactly. */
  kv?: KeyValueStore;
  registry: ModelRegistry;
  /** Battery mode: continue this boot id (a wake from deep sleep is not a new boot). */
  continueBootId?: number;
}

export interface SamplerStats {
  /** Timer callbacks run. */
  ticks: number;
  /** Timer interval in ms (0 when stopped). */
  tickMs: number;
  /** Sectors erased ahead by the sampler. */
  erases: number;
  /** Erases that could not wait for slack (a collector's deadline was closer than eraseStallMs). */
  urgentErases: number;
  /** The boot identity stored with readings taken before the wall clock was valid. */
  bootId: number;
  /** wall − monotonic of this boot in ms, NaN until the wall clock is valid. */
  clockOffsetMs: number;
}

/** What sync needs to describe a ring in UploadMetadata. */
export interface CollectorMetadata extends CollectorIdentity {
  /** additional_params to send as method parameters ({} when none). */
  additionalParams: Record<string, string>;
}

interface LiveComponent {
  fingerprint: string;
  component: Component;
}

export class Capture implements CollectorHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly bootId: number;
  private readonly store: RingStore;
  private readonly timers: Timers;
  private readonly registry: ModelRegistry;
  private readonly timeline: BootTimeline;
  private readonly transcoder: SensorDataTranscoder;

  private collectors: Collector[] = [];
  private readonly components = new Map<string, LiveComponent>();
  private readonly params = new Map<string, Record<string, string>>();
  private layout: RingLayoutEntry[] = [];
  private timer: TimerId | undefined;
  private tickMs = 0;
  /** Monotonic ms of the timer grid's point 0: ticks are due at tickOriginMs + k × tickMs. */
  private tickOriginMs = 0;
  private flushIntervalMs = DATA_MANAGER_DEFAULTS.flushIntervalSecs * 1000;
  private eraseStallMs = DATA_MANAGER_DEFAULTS.eraseStallMs;
  private ticks = 0;
  /**
   * keepOnGrid's fast path: the grid point (index, ms) the timer should fire at next; NaN after any
   * change of the timer, its interval or its grid (setTimer, a new grid in apply).
   */
  private onGridIndex = 0;
  private onGridMs = Number.NaN;
  /** Until this boot's wall-clock offset is learned, every tick looks at the clock. */
  private clockPending = true;
  private erases = 0;
  /** Some collector has needsEraseCheck set (a tick then runs eraseAhead; kept by flush and eraseAhead). */
  private erasePending = false;
  /** The timers keep their own grid (Timers.steady): an on-time tick never needs re-arming. */
  private readonly steadyTimers: boolean;
  private urgentErases = 0;
  private closed = false;

  constructor(ports: CapturePorts) {
    this.store = ports.store;
    this.clock = ports.clock;
    this.timers = ports.timers;
    this.steadyTimers = ports.timers.steady === true;
    this.log = ports.log;
    this.registry = ports.registry;
    this.timeline = new BootTimeline(ports.kv, ports.log, ports.continueBootId);
    this.bootId = this.timeline.bootId;
    this.transcoder = new SensorDataTranscoder(this.timeline);
    this.scanEarlierBoots();
  }

  /**
   * Blocks kept in flash from earlier boots (retain_unsynced_on_reboot) tell
   * how far each of those boots got; the boot timeline places boots that
   * never saw a valid wall clock from that (see boot-timeline.ts). One read
   * of the pending data, once per boot, before capture starts.
   */
  private scanEarlierBoots(): void {
    if (!this.timeline.needsScan()) return;
    let changed = false;
    for (const ring of this.store.rings()) {
      let after: number | undefined;
      try {
        for (;;) {
          const chunk = ring.read(SCAN_CHUNK_BYTES, after);
          if (!chunk) break;
          for (const record of chunk.records) {
            try {
              const times = blockTimes(record);
              if (!times.wallBase && times.bootId !== this.bootId) {
                this.timeline.noteBlock(times.bootId, times.lastMs);
                changed = true;
              }
            } catch {
              // Not a block capsync can read: sync sets it aside and counts it.
            }
          }
          after = chunk.lastSeq;
        }
      } catch (error) {
        this.log.warn(
          `capture: scanning ${ring.key} for earlier boots failed: ${(error as Error)?.message ?? error}`,
        );
      }
    }
    if (changed) this.timeline.save();
  }

  /**
   * Apply settings (first configuration or any later one). Logs and returns
   * every issue: the settings' own (from config parsing) plus components that
   * cannot be built and methods a model does not have. Valid collectors run
   * regardless of the others.
   */
  apply(settings: CaptureSettings): ConfigIssue[] {
    if (this.closed) throw new Error("capture: apply after close");
    const issues: ConfigIssue[] = [...settings.issues];
    const dm = settings.dataManager;
    this.flushIntervalMs = dm.flushIntervalSecs * 1000;
    this.eraseStallMs = dm.eraseStallMs;
    const now = this.clock.monotonic();

    // 1. Components: reuse unchanged ones (a driver's FIFO and bus stay open), build new ones.
    const wanted = new Map<string, Component>();
    if (!dm.captureDisabled) {
      for (const settingsComponent of settings.components) {
        const enabled = settings.collectors.some(
          (c) => c.componentName === settingsComponent.name && !c.disabled,
        );
        if (!enabled) continue;
        const fingerprint = `${settingsComponent.api}|${settingsComponent.model}|${JSON.stringify(settingsComponent.attributes)}`;
        const live = this.components.get(settingsComponent.name);
        if (live && live.fingerprint === fingerprint) {
          wanted.set(settingsComponent.name, live.component);
          continue;
        }
        const factory = this.registry.lookup(settingsComponent.api, settingsComponent.model);
        if (!factory) {
          issues.push({
            severity: "error",
            component: settingsComponent.name,
            message: `no model "${settingsComponent.model}" for ${settingsComponent.api} in this build (known: ${this.registry.list().join(", ")})`,
          });
          continue;
        }
        try {
          const component = factory.create({
            name: settingsComponent.name,
            attributes: settingsComponent.attributes,
            clock: this.clock,
            log: this.log,
          });
          wanted.set(settingsComponent.name, component);
        } catch (error) {
          issues.push({
            severity: "error",
            component: settingsComponent.name,
            message: `model "${settingsComponent.model}" failed to start: ${(error as Error)?.message ?? error}`,
          });
        }
      }
    }

    // 2. Collectors: keep, reschedule, replace or drop.
    const previous = new Map(this.collectors.map((c) => [c.key, c]));
    const next: Collector[] = [];
    const fresh: { collector: Collector; hz: number }[] = [];
    this.params.clear();
    for (const s of settings.collectors) this.params.set(s.key, s.additionalParams);
    if (!dm.captureDisabled) {
      for (const s of settings.collectors) {
        if (s.disabled) continue;
        const component = wanted.get(s.componentName);
        if (!component) continue; // its component failed: already reported
        const old = previous.get(s.key);
        const batchBytes = s.batchBytes;
        if (old && old.component === component && old.block.capacity === batchBytes) {
          previous.delete(s.key);
          next.push(old);
          if (old.frequencyHz !== s.frequencyHz) fresh.push({ collector: old, hz: s.frequencyHz });
          continue;
        }
        const spec = methodSpec(s.componentType, s.method);
        if (!spec) continue; // config parsing already rejected it
        const problem = missingMember(component, spec.kind);
        if (problem) {
          issues.push({ severity: "error", component: s.componentName, method: s.method, message: problem });
          continue;
        }
        let analog: AnalogReader | undefined;
        let pin: GpioPin | undefined;
        try {
          if (spec.kind === KIND_ANALOG) {
            analog = component.analogReader!(s.parameter);
            if (!analog) throw new Error(`board has no analog reader "${s.parameter}"`);
          }
          if (spec.kind === KIND_GPIO) {
            pin = component.gpioPin!(s.parameter);
            if (!pin) throw new Error(`board has no GPIO pin "${s.parameter}"`);
          }
        } catch (error) {
          issues.push({
            severity: "error",
            component: s.componentName,
            method: s.method,
            message: (error as Error)?.message ?? String(error),
          });
          continue;
        }
        const useFifo = component.fifo?.supports(spec.kind) === true;
        const collector = new Collector(this, {
          key: s.key,
          componentType: s.componentType,
          componentName: s.componentName,
          method: s.method,
          kind: spec.kind,
          component,
          batchBytes,
          ...(analog ? { analog } : {}),
          ...(pin ? { pin } : {}),
          ...(useFifo ? { fifo: component.fifo! } : {}),
        });
        next.push(collector);
        fresh.push({ collector, hz: s.frequencyHz });
      }
    }

    // 3. Collectors that leave or are replaced: their batches go to their current rings first.
    for (const gone of previous.values()) if (gone.block.count > 0) this.flush(gone);

    // 4. Components no longer used.
    for (const [name, live] of this.components) {
      if (wanted.get(name) === live.component) continue;
      try {
        live.component.close?.();
      } catch (error) {
        this.log.warn(`capture: closing ${name} failed: ${(error as Error)?.message ?? error}`);
      }
    }
    this.components.clear();
    for (const s of settings.components) {
      const component = wanted.get(s.name);
      if (component) {
        this.components.set(s.name, {
          fingerprint: `${s.api}|${s.model}|${JSON.stringify(s.attributes)}`,
          component,
        });
      }
    }

    // 5. Ring layout: every configured collector (disabled ones too) plus rings that left with data pending.
    const refused = this.configureStore(settings, issues);
    if (refused !== "") {
      issues.push({
        severity: "error",
        message: `the flash ring layout was refused (${refused}); readings of collectors without a ring are counted as dropped`,
      });
    } else {
      // The store leaves out rings that do not fit the partition (and logs it); say which collectors that hits.
      for (const s of settings.collectors) {
        if (s.disabled || dm.captureDisabled || this.store.ring(s.key)) continue;
        if (!next.some((c) => c.key === s.key)) continue;
        issues.push({
          severity: "error",
          component: s.componentName,
          method: s.method,
          message: `no flash ring: the store could not place ${this.layout.find((r) => r.key === s.key)?.sectors ?? s.flashSectors} sectors for it (partition too small for the layout?); its readings are counted as dropped`,
        });
      }
    }

    // 6. Schedules and the one timer.
    this.collectors = next.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // The store may have new rings: every erase check looks again.
    for (const c of this.collectors) c.eraseWaitRing = undefined;
    this.notePendingErases();
    for (const { collector, hz } of fresh) collector.frequencyHz = hz;
    const tickMs = chooseTick(
      this.collectors.map((c) => (c.usesFifo ? FIFO_DRAIN_MS : 1000 / c.frequencyHz)),
    );
    // Every deadline sits on the timer's grid, so a tick late by less than a period still serves
    // exactly one deadline per collector (a deadline between grid points would be served by one tick
    // or the next depending on the jitter, sometimes by none). A new interval starts a new grid now;
    // collectors that keep their schedule move to the first new grid point at or after their next deadline.
    const newGrid = tickMs !== this.tickMs || this.timer === undefined;
    if (newGrid) {
      this.tickOriginMs = now;
      this.onGridMs = Number.NaN;
    }
    const refreshed = new Set<Collector>();
    for (const { collector, hz } of fresh) {
      // A collector that read at this very instant (a reconfigure right after a tick) starts one grid
      // point later: the deadline now was already served.
      const from = collector.lastRunMs >= now ? now + tickMs * 1e-6 : now;
      collector.schedule(hz, this.gridPointAtOrAfter(from, tickMs), tickMs);
      refreshed.add(collector);
    }
    for (const c of this.collectors) {
      if (refreshed.has(c)) continue;
      c.setTick(tickMs);
      if (newGrid && tickMs > 0) c.rephase(this.gridPointAtOrAfter(c.nextDeadlineMs, tickMs));
    }
    this.setTimer(tickMs);

    // The settings' own issues were logged where the config was read (config follower, firmware); only
    // what applying found is logged here, so no entry is reported twice.
    for (let i = settings.issues.length; i < issues.length; i++) {
      const issue = issues[i]!;
      const line = describeIssue(issue);
      if (issue.severity === "error") this.log.error(line);
      else this.log.warn(line);
    }
    this.log.info(
      `capture: ${this.collectors.length} collector(s) running${dm.captureDisabled ? " (capture_disabled)" : ""}, timer ${tickMs} ms`,
    );
    return issues;
  }

  /** Write every RAM batch to its ring now (before a sync, at shutdown). */
  flush(): void;
  /** @internal Write one collector's batch (CollectorHost). */
  flush(collector: Collector): void;
  flush(collector?: Collector): void {
    if (!collector) {
      for (const c of this.collectors) if (c.block.count > 0) this.flush(c);
      return;
    }
    const block = collector.block;
    const count = block.count;
    if (count === 0) return;
    block.seal();
    const ring = this.store.ring(collector.key);
    try {
      if (!ring) throw new Error("the store has no ring for it");
      ring.append(collector.batch);
      collector.flushed += count;
      collector.blocks++;
      collector.needsEraseCheck = true;
      collector.eraseWaitRing = undefined;
      this.erasePending = true;
    } catch (error) {
      collector.dropped += count;
      this.log.error(
        `capture: ${collector.componentName} ${collector.method}: ${count} reading(s) lost, the store refused the batch: ${(error as Error)?.message ?? error}`,
      );
    }
    block.clear();
  }

  /**
   * Stop sampling (the timer) and keep everything else: collectors, their
   * counters and RAM batches. A clean shutdown's first step, so the last
   * sync round can take every reading captured; `apply` starts it again.
   */
  pause(): void {
    if (!this.closed) this.setTimer(0);
  }

  /** Flush, stop the timer, release components. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.setTimer(0);
    for (const [name, live] of this.components) {
      try {
        live.component.close?.();
      } catch (error) {
        this.log.warn(`capture: closing ${name} failed: ${(error as Error)?.message ?? error}`);
      }
    }
    this.components.clear();
    this.collectors = [];
    this.timeline.checkpoint(this.clock.monotonic());
    this.closed = true;
  }

  /** Learn this boot's wall-clock offset now if the clock is valid (battery mode runs no sampler tick). */
  noteClock(): void {
    if (this.clockPending)
      this.clockPending = !this.timeline.observe(this.clock.monotonic(), this.clock.wall());
  }

  /** Per-collector counters. */
  stats(): CollectorStats[] {
    return this.collectors.map((c) => c.stats());
  }

  samplerStats(): SamplerStats {
    return {
      ticks: this.ticks,
      tickMs: this.tickMs,
      erases: this.erases,
      urgentErases: this.urgentErases,
      bootId: this.bootId,
      clockOffsetMs: this.timeline.offsetMs,
    };
  }

  /** UploadMetadata facts for a ring key (also for rings whose collector is gone). */
  metadata(key: string): CollectorMetadata | undefined {
    const identity = parseRingKey(key);
    if (!identity) return undefined;
    const params = this.params.get(key);
    return {
      ...identity,
      additionalParams: params ?? (identity.parameter !== "" ? parameterFor(identity) : {}),
    };
  }

  /**
   * Append every reading of a stored block to `w` as SensorData fields number
   * `field` (2 = DataCaptureUploadRequest.sensor_contents). Returns the
   * readings written, or TIMES_NOT_KNOWN_YET (-1) when the block's times wait
   * for the wall clock. Throws BlockFormatError for a corrupt block.
   */
  writeSensorData(record: Uint8Array, w: ProtoWriter, field: number): number {
    return this.transcoder.writeSensorData(record, w, field);
  }

  /** The timer callback: every collector, flush aged batches, erase ahead. */
  tick(): void {
    this.ticks++;
    const clock = this.clock;
    const now = clock.monotonic();
    if (this.clockPending) this.clockPending = !this.timeline.observe(now, clock.wall());
    const collectors = this.collectors;
    const flushIntervalMs = this.flushIntervalMs;
    for (let i = 0; i < collectors.length; i++) {
      const c = collectors[i]!;
      // Not due: no call (a slow collector sleeps through most ticks of a fast one).
      if (now >= c.nextDeadlineMs) c.run(now);
      const block = c.block;
      if (block.count > 0 && now - block.firstMonotonicMs >= flushIntervalMs) this.flush(c);
    }
    if (this.erasePending) this.eraseAhead();
    // keepOnGrid's common case, inlined: an on-time tick that took no time keeps the timer as it is, and
    // so does any on-time tick of a steady timer (onGridMs is NaN whenever the timer, its interval or
    // its grid changed: keepOnGrid decides then).
    if (now === this.onGridMs) {
      // Two branches rather than one `steady ? now : clock.monotonic()`: 9 computrons a reading less.
      if (this.steadyTimers) {
        this.onGridMs = this.tickOriginMs + ++this.onGridIndex * this.tickMs;
        return;
      }
      const after = clock.monotonic();
      if (after === now) {
        this.onGridMs = this.tickOriginMs + ++this.onGridIndex * this.tickMs;
        return;
      }
      this.keepOnGrid(now, after);
    } else this.keepOnGrid(now);
  }

  /**
   * A repeating timer re-arms from when it fired (Node's setInterval, a busy
   * event loop), so its lateness adds up tick after tick until two deadlines
   * fall due at once and one is missed. A late tick re-arms the timer to the
   * next grid point instead (an on-time tick that took no time, or any on-time tick of a steady
   * timer, never comes here: tick keeps the timer as it is). A tick that
   * stalled past the next grid point (an erase) leaves the timer alone: it is
   * due already and fires at once, late, and the tick after that is back on
   * the grid. `nowMs`: the clock read after the tick's work, if the caller made it.
   */
  private keepOnGrid(firedMs: number, nowMs?: number): void {
    const tickMs = this.tickMs;
    if (this.timer === undefined || tickMs === 0) return;
    const now = nowMs ?? this.clock.monotonic();
    const next = this.gridPointAtOrAfter(firedMs + tickMs * 1e-6, tickMs);
    // The grid point the timer fires at next if nothing is late (k: its index on the grid).
    this.onGridIndex = Math.round((next - this.tickOriginMs) / tickMs);
    this.onGridMs = next;
    if (next <= now) return;
    const delay = next - now;
    // A new timer (the Timers port has no re-arm: see ports.ts). Only late ticks come here.
    if (delay < tickMs * (1 - 1e-6)) {
      this.timers.clear(this.timer);
      this.timer = this.timers.set(() => this.tick(), delay, tickMs);
    }
  }

  private gridPointAtOrAfter(ms: number, tickMs: number): number {
    if (tickMs === 0) return ms;
    const origin = this.tickOriginMs;
    const k = Math.ceil((ms - origin) / tickMs - 1e-9);
    return origin + (k > 0 ? k : 0) * tickMs;
  }

  /**
   * At most one erase per tick, for the first ring short of room. Non-urgent
   * erases wait for a tick with at least eraseStallMs before the next deadline
   * of any collector; an urgent one (the next batch would have to erase
   * inside append anyway) happens now, and the deadlines it costs are counted
   * as missed by the collectors themselves.
   */
  private eraseAhead(): void {
    const collectors = this.collectors;
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < collectors.length; i++) {
      const next = collectors[i]!.nextDeadlineMs;
      if (next < earliest) earliest = next;
    }
    const slack = earliest - this.clock.monotonic();
    const enough = slack >= this.eraseStallMs;
    let cleared = false;
    for (let i = 0; i < collectors.length; i++) {
      const c = collectors[i]!;
      if (!c.needsEraseCheck) continue;
      // Waiting for slack, and its ring unchanged since it was found short but not urgently: the same
      // answer (a 200 Hz collector never has 45 ms of slack, so it waits here from flush to flush).
      const waiting = c.eraseWaitRing;
      if (waiting !== undefined) {
        if (!enough && waiting.version === c.eraseWaitVersion) continue;
        c.eraseWaitRing = undefined;
      }
      const ring = this.store.ring(c.key);
      if (!ring) {
        c.needsEraseCheck = false;
        cleared = true;
        continue;
      }
      const batch = c.block.capacity + RECORD_OVERHEAD;
      const want = ERASE_AHEAD_BATCHES * batch;
      const writable = ring.writableWithoutErase();
      if (writable >= want) {
        c.needsEraseCheck = false;
        cleared = true;
        continue;
      }
      const urgent = writable < batch;
      if (!urgent && !enough) {
        c.eraseWaitRing = ring;
        c.eraseWaitVersion = ring.version;
        continue;
      }
      try {
        const erased = ring.eraseAhead(want);
        this.erases += erased;
        if (urgent && slack < this.eraseStallMs) this.urgentErases += erased;
      } catch (error) {
        this.log.error(`capture: erase-ahead of ${c.key} failed: ${(error as Error)?.message ?? error}`);
      }
      c.needsEraseCheck = false;
      cleared = true;
      break;
    }
    if (cleared) this.notePendingErases();
  }

  /** erasePending: does any collector still wait for its erase check? */
  private notePendingErases(): void {
    const collectors = this.collectors;
    let pending = false;
    for (let i = 0; i < collectors.length; i++) if (collectors[i]!.needsEraseCheck) pending = true;
    this.erasePending = pending;
  }

  /**
   * Apply the ring layout; returns "" or why the store refused it. Rings
   * without an explicit size are sized from the partition (ring-sizing.ts);
   * a warning about that goes to `issues`.
   */
  private configureStore(settings: CaptureSettings, issues: ConfigIssue[]): string {
    const demands: RingDemand[] = [];
    const seen = new Set<string>();
    for (const s of settings.collectors) {
      if (seen.has(s.key)) continue;
      seen.add(s.key);
      // Sized for the configured rate even while disabled: a ring keeps its size once laid out.
      demands.push({
        key: s.key,
        sectors: s.flashSectors,
        auto: s.autoSize,
        bytesPerSecond: s.frequencyHz * estimatedFlashBytesPerReading(s.kind),
      });
    }
    const retained: RingLayoutEntry[] = [];
    let retainedSectors = 0;
    for (const old of this.layout) {
      if (seen.has(old.key)) continue;
      const ring = this.store.ring(old.key);
      if (ring && ring.counters().pending > 0) {
        retained.push(old);
        retainedSectors += old.sectors;
      }
    }
    const geometry = this.store.geometry?.();
    const existing = new Map<string, number>();
    if (geometry) for (const r of geometry.rings) existing.set(r.key, r.sectors);
    for (const r of this.layout) existing.set(r.key, r.sectors);
    const plan = planRings(demands, existing, retainedSectors, geometry);
    if (plan.warning !== "") issues.push({ severity: "warning", message: `ring sizes: ${plan.warning}` });
    const layout = [...plan.layout, ...retained];
    if (sameLayout(layout, this.layout)) return "";
    try {
      this.store.configure(layout);
      this.layout = layout;
      return "";
    } catch (error) {
      return (error as Error)?.message ?? String(error);
    }
  }

  private setTimer(tickMs: number): void {
    if (tickMs !== this.tickMs || this.timer === undefined) this.onGridMs = Number.NaN;
    if (tickMs === 0) {
      if (this.timer !== undefined) this.timers.clear(this.timer);
      this.timer = undefined;
      this.tickMs = 0;
      return;
    }
    // First firing right away (new deadlines are due now), then every tickMs. An unchanged interval
    // is left alone, so every collector keeps a constant phase to the timer (even spacing).
    if (this.timer === undefined) this.timer = this.timers.set(() => this.tick(), 0, tickMs);
    else if (tickMs !== this.tickMs) {
      this.timers.clear(this.timer);
      this.timer = this.timers.set(() => this.tick(), 0, tickMs);
    }
    this.tickMs = tickMs;
  }
}

/**
 * The timer interval for these collector periods (ms): the largest whole
 * number of ms, at most MAX_TICK_MS and at most the shortest period, that
 * divides every whole-ms period, so readings land evenly spaced (a 4 Hz
 * collector is not served at alternating 200/300 ms). Periods that are not
 * whole ms (300 Hz) cannot be matched; they are served within one interval
 * of their exact deadlines, which never drift. 0 when there are none.
 */
export function chooseTick(periods: readonly number[]): number {
  if (periods.length === 0) return 0;
  let shortest = Number.POSITIVE_INFINITY;
  for (const p of periods) if (p < shortest) shortest = p;
  for (let t = Math.max(1, Math.min(MAX_TICK_MS, Math.floor(shortest))); t > 1; t--) {
    let fits = true;
    for (const p of periods) {
      if (Number.isInteger(p) && p % t !== 0) {
        fits = false;
        break;
      }
    }
    if (fits) return t;
  }
  return 1;
}

function sameLayout(a: RingLayoutEntry[], b: RingLayoutEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i]!.key !== b[i]!.key || a[i]!.sectors !== b[i]!.sectors) return false;
  return true;
}

function parameterFor(identity: CollectorIdentity): Record<string, string> {
  if (identity.method === "Analogs") return { reader_name: identity.parameter };
  if (identity.method === "Gpios") return { pin_name: identity.parameter };
  return {};
}

/** Why `component` cannot serve method `kind`, or "" when it can. */
function missingMember(component: Component, kind: number): string {
  const member = MEMBER_BY_KIND[kind];
  if (!member) return `method kind ${kind} is not supported`;
  if (typeof (component as Record<string, unknown>)[member] !== "function") {
    return `this model does not implement the method (no ${member}())`;
  }
  return "";
}

const MEMBER_BY_KIND: Readonly<Record<number, string>> = {
  1: "readings",
  2: "angularVelocity",
  3: "linearAcceleration",
  4: "linearVelocity",
  5: "geoPosition",
  6: "compassHeading",
  7: "analogReader",
  8: "gpioPin",
  9: "ticksCount",
  10: "motorPosition",
  11: "servoPositionDegrees",
};
