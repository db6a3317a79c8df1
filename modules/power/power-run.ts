/*
 * One start of the chip in battery mode: what the RTC image says, what the
 * wake cause means for the readings it holds, the run clock, the readings due
 * now, moving held batches into the flash rings, and the image saved before
 * deep sleep. Capture wakes (capture-wake.ts) and sync wakes
 * (powered-firmware.ts) both go through it.
 *
 * The run: everything from one reboot (power-on, brownout, watchdog, panic,
 * software reset) to the next. Its readings carry one boot id (capture's boot
 * timeline id of the run's first full boot) and "run time": RTC ms since the
 * run began, which keeps counting through deep sleep. A deep-sleep wake with
 * a valid RTC image continues the run: nothing is discarded, the boot id and
 * the clock carry on. Any other start is a reboot, and the reboot rule
 * (retain_unsynced_on_reboot) decides what becomes of the readings RTC memory
 * still holds (it survives software and watchdog resets, not power loss).
 */
import { Collector, type CollectorHost } from "../capture/collector";
import type { AnalogReader, Component, GpioPin } from "../capture/component";
import { KIND_ANALOG, KIND_GPIO } from "../capture/methods";
import type { ModelRegistry } from "../capture/registry";
import { readingCount } from "../capture/transcoder";
import type { CaptureSettings } from "../config/settings";
import type { Clock, Logger } from "../ports";
import type { RecordBatch, RingStore } from "../storage/types";
import {
  decodeRtcImage,
  emptyRtcState,
  encodeRtcImage,
  type RtcRecord,
  type RtcState,
  rtcRecord,
  rtcRecordBytes,
  rtcRecordCapacity,
  rtcRecordIntact,
} from "./rtc-image";
import {
  advanceSlot,
  afterSync,
  alignSlots,
  dueSlots,
  nextWake,
  type SlotSpec,
  scheduleHash,
  slotSpecs,
  syncDue,
} from "./schedule";
import type { SleepPort, WakeCause } from "./sleep-port";

/** Held batches go to flash once they fill this share of the RTC record area. */
export const RTC_FLUSH_FILL = 0.75;
/** Readings on a capture wake are blocks of one reading: no bigger block is needed. */
const WAKE_BLOCK_BYTES = 1024;

export interface WakeReadings {
  /** Readings taken and held. */
  taken: number;
  /** Deadlines passed without a reading. */
  missed: number;
  /** The wake's budget ran out before every due collector was read. */
  overran: boolean;
}

export class PowerRun {
  readonly cause: WakeCause;
  /** A deep-sleep wake with a valid image: the run goes on (not a reboot). */
  readonly continuesRun: boolean;
  /** Why there was no usable image ("" when there was). */
  readonly imageProblem: string;
  /** Readings RTC memory held at a reboot that the reboot rule discarded. */
  readonly discardedAtReboot: number;
  /** Readings RTC memory held at a reboot kept (retain_unsynced_on_reboot) until adopted. */
  readonly keptAtReboot: number;
  state: RtcState;
  /** The run clock: run time, and the wall clock when the run learned it. */
  readonly clock: Clock;
  /** Run time when this start began. */
  readonly startedMs: number;
  /** Readings taken by this start (all its calls of takeDueReadings). */
  taken = 0;
  private readonly power: SleepPort;
  private readonly log: Logger;
  private plan: { settings: CaptureSettings; specs: readonly SlotSpec[]; hash: number } | undefined;

  constructor(power: SleepPort, log: Logger, retainOnReboot: boolean) {
    this.power = power;
    this.log = log;
    this.cause = power.wakeCause;
    let loaded: Uint8Array | undefined;
    try {
      loaded = power.loadRtc();
    } catch (error) {
      log.error(`power: RTC memory unreadable: ${(error as Error)?.message ?? error}`);
    }
    const decoded = decodeRtcImage(loaded);
    this.imageProblem = decoded.ok ? "" : decoded.reason;
    let discarded = 0;
    let kept = 0;
    if (decoded.ok && this.cause === "deep-sleep") {
      this.continuesRun = true;
      this.state = decoded.state;
    } else {
      this.continuesRun = false;
      this.state = emptyRtcState(0, power.rtcMs());
      if (decoded.ok && decoded.state.records.length > 0) {
        const held = countReadings(decoded.state.records);
        if (retainOnReboot) {
          // Kept with the old run's slot map until adopted into the rings.
          this.state.records = decoded.state.records;
          this.state.slots = decoded.state.slots;
          this.state.scheduleHash = decoded.state.scheduleHash;
          kept = held;
        } else discarded = held;
      }
    }
    this.discardedAtReboot = discarded;
    this.keptAtReboot = kept;
    this.clock = {
      monotonic: () => this.runNow(),
      wall: () => this.runNow() + this.state.wallOffsetMs,
    };
    this.startedMs = this.runNow();
    if (this.continuesRun) {
      log.info(
        `power: woke from deep sleep (run ${this.state.runId}, wake ${this.state.wakes + 1}, image seq ${this.state.seq}, ${this.state.records.length} batch(es) held in RTC memory)`,
      );
    } else {
      log.info(
        `power: start after ${this.cause}${this.cause === "deep-sleep" ? ` with no usable RTC image (${this.imageProblem})` : ""}: a reboot for the reboot rule`,
      );
      if (discarded > 0)
        log.warn(
          `power: ${discarded} reading(s) held in RTC memory discarded at the ${this.cause} reset (retain_unsynced_on_reboot is off)`,
        );
      if (kept > 0)
        log.info(`power: ${kept} reading(s) held in RTC memory kept across the ${this.cause} reset`);
    }
  }

  /** RTC ms since the run began. */
  runNow(): number {
    return this.power.rtcMs() - this.state.runStartRtcMs;
  }

  /** Whether this wake must bring the radio up. */
  wantsSync(settings: CaptureSettings): boolean {
    if (!this.continuesRun) return true;
    return syncDue(this.state, settings, this.runNow());
  }

  /** Bytes of the RTC record area used and available (for the flush decision and status). */
  rtcFill(settings: CaptureSettings): { used: number; capacity: number } {
    return {
      used: rtcRecordBytes(this.state.records),
      capacity: rtcRecordCapacity(this.specs(settings).length),
    };
  }

  /**
   * Take one reading for every collector due now into RTC memory, in key
   * order, until `budgetMs` of this start is spent (the rest count as missed).
   * Only on a continuing run: a reboot's first readings come at its next wake.
   */
  takeDueReadings(
    settings: CaptureSettings,
    registry: ModelRegistry,
    budgetMs: number,
    sinceMs = this.startedMs,
  ): WakeReadings {
    const result: WakeReadings = { taken: 0, missed: 0, overran: false };
    if (!this.continuesRun && this.state.runId === 0) return result;
    const specs = this.specs(settings);
    this.align(settings);
    const due = dueSlots(this.state, specs, this.runNow());
    if (due.length === 0) return result;
    const host: CollectorHost = {
      clock: this.clock,
      log: this.log,
      bootId: this.state.runId,
      flush: () => {},
    };
    const components = new Map<string, Component | null>();
    try {
      for (const i of due) {
        const spec = specs[i]!;
        const slot = this.state.slots[i]!;
        if (this.runNow() - sinceMs > budgetMs) {
          result.overran = true;
          result.missed += advanceSlot(slot, spec, this.runNow(), false);
          continue;
        }
        const bytes = this.readOnce(settings, spec.key, registry, host, components);
        const now = this.runNow();
        if (bytes) {
          this.state.records.push(rtcRecord(i, bytes));
          result.taken++;
        }
        result.missed += advanceSlot(slot, spec, now, bytes !== undefined);
      }
    } finally {
      for (const [name, c] of components) {
        try {
          c?.close?.();
        } catch (error) {
          this.log.warn(`power: closing ${name} failed: ${(error as Error)?.message ?? error}`);
        }
      }
    }
    this.state.missed += result.missed;
    this.taken += result.taken;
    if (result.overran) {
      this.state.overruns++;
      this.log.warn(
        `power: the capture wake overran its ${budgetMs} ms budget; ${result.missed} deadline(s) missed, not caught up`,
      );
    }
    return result;
  }

  /** The held batches fill RTC memory past RTC_FLUSH_FILL: append them to the rings on this wake. */
  needsFlush(settings: CaptureSettings): boolean {
    const fill = this.rtcFill(settings);
    return fill.used > fill.capacity * RTC_FLUSH_FILL;
  }

  /**
   * Append the held batches to their rings (one append per ring: one program
   * run, not one per reading) and forget them. Batches whose ring does not
   * exist yet stay held. Returns the readings adopted per ring key. Also
   * notes whether a ring passed the sync fill threshold.
   */
  moveToStore(store: RingStore, settings: CaptureSettings): { key: string; readings: number }[] {
    const adopted: { key: string; readings: number }[] = [];
    const records = this.state.records;
    if (records.length > 0) {
      const specs = this.specs(settings);
      if (this.hashOf(settings) !== this.state.scheduleHash) {
        // The collector set changed without the image following: the slots cannot be mapped to rings.
        const n = countReadings(records);
        this.state.dropped += n;
        this.state.records = [];
        this.log.error(`power: ${n} held reading(s) belong to an earlier collector set and are dropped`);
      } else {
        const bySlot = new Map<number, RtcRecord[]>();
        let damaged = 0;
        for (const r of records) {
          if (!rtcRecordIntact(r)) {
            damaged++;
            continue;
          }
          const list = bySlot.get(r.slot);
          if (list) list.push(r);
          else bySlot.set(r.slot, [r]);
        }
        const left: RtcRecord[] = [];
        for (const [slot, list] of bySlot) {
          const key = specs[slot]!.key;
          const ring = store.ring(key);
          if (!ring) {
            left.push(...list);
            continue;
          }
          try {
            ring.append(batchOf(list));
            adopted.push({ key, readings: countReadings(list) });
          } catch (error) {
            left.push(...list);
            this.log.error(
              `power: ${key}: the ring refused ${list.length} held batch(es), kept in RTC memory: ${(error as Error)?.message ?? error}`,
            );
          }
        }
        this.state.records = records.filter((r) => left.includes(r));
        if (damaged > 0) {
          this.state.dropped += damaged;
          this.log.error(`power: ${damaged} batch(es) in RTC memory failed their CRC and are dropped`);
        }
      }
    }
    const threshold = settings.power?.syncFillThreshold ?? 1;
    for (const ring of store.rings()) {
      const c = ring.counters();
      if (c.capacityBytes > 0 && c.bytesPending >= c.capacityBytes * threshold) this.state.fillHigh = true;
    }
    return adopted;
  }

  /** Readings held that do not fit the image are dropped, newest first, and counted. */
  trimToFit(settings: CaptureSettings): number {
    const capacity = rtcRecordCapacity(this.specs(settings).length);
    let dropped = 0;
    while (this.state.records.length > 0 && rtcRecordBytes(this.state.records) > capacity) {
      const r = this.state.records.pop()!;
      dropped += countReadings([r]);
    }
    if (dropped > 0) {
      this.state.dropped += dropped;
      this.log.error(
        `power: RTC memory full and the flash refused the batches: ${dropped} reading(s) dropped`,
      );
    }
    return dropped;
  }

  /** A sync wake ended (ok: its round finished with everything acknowledged). */
  noteSync(settings: CaptureSettings, ok: boolean): void {
    afterSync(this.state, settings, this.runNow(), ok);
  }

  /** Learn the wall clock (wall − run time) from a clock that is valid now. */
  noteWall(wallMs: number): void {
    if (Number.isFinite(wallMs)) this.state.wallOffsetMs = wallMs - this.runNow();
  }

  /** Start the run's identity (the first full boot of a run: capture's boot id). */
  adoptRunId(bootId: number): void {
    if (this.state.runId === 0) this.state.runId = bootId;
  }

  /**
   * Save the image and return how long to sleep. The slots follow `settings`
   * (a changed collector set starts afresh now; held batches must have been
   * moved to flash before, or they are counted as dropped).
   */
  finish(settings: CaptureSettings): number {
    const specs = this.specs(settings);
    const now = this.runNow();
    if (this.align(settings) && this.state.records.length > 0) {
      const n = countReadings(this.state.records);
      this.state.dropped += n;
      this.state.records = [];
      this.log.error(`power: ${n} held reading(s) of the previous collector set dropped`);
    }
    for (let i = 0; i < specs.length; i++)
      this.state.missed += advanceSlot(this.state.slots[i]!, specs[i]!, now, false);
    if (!Number.isFinite(this.state.nextSyncMs) && !settings.dataManager.syncDisabled) {
      this.state.nextSyncMs = now + settings.dataManager.syncIntervalMins * 60_000;
    }
    this.trimToFit(settings);
    const wake = nextWake(this.state, specs, settings, now);
    this.state.wakes++;
    this.state.seq++;
    this.power.saveRtc(encodeRtcImage(this.state));
    return wake.sleepMs;
  }

  private align(settings: CaptureSettings): boolean {
    return alignSlots(this.state, this.specs(settings), this.runNow(), this.hashOf(settings));
  }

  /** The slot list of `settings`, built once per settings object (a wake asks several times). */
  private specs(settings: CaptureSettings): readonly SlotSpec[] {
    if (this.plan?.settings !== settings) {
      const specs = slotSpecs(settings);
      this.plan = { settings, specs, hash: scheduleHash(specs) };
    }
    return this.plan.specs;
  }

  private hashOf(settings: CaptureSettings): number {
    this.specs(settings);
    return this.plan!.hash;
  }

  private readOnce(
    settings: CaptureSettings,
    key: string,
    registry: ModelRegistry,
    host: CollectorHost,
    components: Map<string, Component | null>,
  ): Uint8Array | undefined {
    const s = settings.collectors.find((c) => c.key === key);
    if (!s) return undefined;
    let component = components.get(s.componentName);
    if (component === undefined) {
      component = null;
      const cs = settings.components.find((c) => c.name === s.componentName);
      const factory = cs ? registry.lookup(cs.api, cs.model) : undefined;
      if (cs && factory) {
        try {
          component = factory.create({
            name: cs.name,
            attributes: cs.attributes,
            clock: this.clock,
            log: this.log,
          });
        } catch (error) {
          this.log.error(`power: ${cs.name} failed to start: ${(error as Error)?.message ?? error}`);
        }
      } else this.log.error(`power: no model for component ${s.componentName}`);
      components.set(s.componentName, component);
    }
    if (!component) return undefined;
    let analog: AnalogReader | undefined;
    let pin: GpioPin | undefined;
    try {
      if (s.kind === KIND_ANALOG) analog = component.analogReader?.(s.parameter);
      if (s.kind === KIND_GPIO) pin = component.gpioPin?.(s.parameter);
    } catch (error) {
      this.log.warn(`power: ${s.componentName} ${s.method}: ${(error as Error)?.message ?? error}`);
      return undefined;
    }
    const collector = new Collector(host, {
      key: s.key,
      componentType: s.componentType,
      componentName: s.componentName,
      method: s.method,
      kind: s.kind,
      component,
      batchBytes: Math.min(s.batchBytes, WAKE_BLOCK_BYTES),
      ...(analog ? { analog } : {}),
      ...(pin ? { pin } : {}),
    });
    const now = this.runNow();
    collector.schedule(s.frequencyHz, now, 1000);
    collector.run(now);
    const block = collector.block;
    if (block.count === 0) return undefined;
    block.seal();
    return block.bytes.slice(0, block.ends[0]);
  }
}

function batchOf(records: readonly RtcRecord[]): RecordBatch {
  let total = 0;
  for (const r of records) total += r.bytes.length;
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(records.length);
  let pos = 0;
  records.forEach((r, i) => {
    bytes.set(r.bytes, pos);
    pos += r.bytes.length;
    ends[i] = pos;
  });
  return { bytes, ends, count: records.length };
}

export function countReadings(records: readonly RtcRecord[]): number {
  let n = 0;
  for (const r of records) {
    try {
      n += readingCount(r.bytes);
    } catch {
      n += 1;
    }
  }
  return n;
}
