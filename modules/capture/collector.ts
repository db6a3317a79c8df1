/*
 * One capture method of one component: its schedule, its RAM batch and its
 * counters. The sampler calls `run(now)` on every tick.
 *
 * Schedule: deadline k is origin + k × period, computed from the integer k,
 * never by adding up periods, so there is no drift at any rate and
 * frequencies are not rounded to whole milliseconds. At a tick the collector
 * takes one reading, for the newest due deadline. Older due deadlines (a late
 * tick, a stall) are counted as missed, never silently stretched and never
 * caught up by reading again at the same instant: a second read a few µs
 * after the first is not a reading of its own deadline, and it would carry
 * the same time_requested as the first one (the device's clock ticks in ms),
 * which in Viam looks like a duplicate or a wrong timestamp.
 *
 * Only a period shorter than the timer interval (above 1 kHz: the interval
 * is at least 1 ms) makes a tick take several readings, back to back, as
 * many as deadlines fit in one interval. A read whose time_requested would
 * equal the previous one's is never made (counted as missed), so on a clock
 * with ms resolution such a collector gets at most one reading per ms.
 */
import type { Clock, Logger } from "../ports";
import type { Ring } from "../storage/types";
import { MIN_VALID_WALL_MS } from "./block-format";
import { BlockWriter, READING_ERROR_TEXT, READING_OK, READING_TOO_LARGE } from "./block-writer";
import { isValidWall } from "./boot-timeline";
import {
  type AnalogReader,
  type Component,
  FIFO_LOST_UNKNOWN,
  type GpioPin,
  type SampleFifo,
} from "./component";
import {
  KIND_ANALOG,
  KIND_ANGULAR_VELOCITY,
  KIND_COMPASS_HEADING,
  KIND_GEO_POSITION,
  KIND_GPIO,
  KIND_LINEAR_ACCELERATION,
  KIND_LINEAR_VELOCITY,
  KIND_MOTOR_POSITION,
  KIND_READINGS,
  KIND_SERVO_POSITION,
  KIND_TICKS,
  kindArity,
} from "./methods";

/** Sensor errors are logged at most once per this interval per collector (the rest are counted). */
export const ERROR_LOG_INTERVAL_MS = 10_000;
/** A FIFO-backed collector is drained this often. */
export const FIFO_DRAIN_MS = 10;
/** Most samples taken from a FIFO per drain call, and drain calls per tick. */
export const FIFO_MAX_SAMPLES = 64;
const FIFO_MAX_ROUNDS = 32;

export interface CollectorStats {
  key: string;
  componentType: string;
  componentName: string;
  method: string;
  frequencyHz: number;
  /** Readings taken and encoded into the RAM batch. */
  captured: number;
  /** Deadlines that passed without a reading (stalls, FIFO overflow). */
  missedDeadlines: number;
  /** Reads that threw or produced NaN/Infinity or an unstorable value. */
  sensorErrors: number;
  /**
   * Reads that took longer than one period (a sensor or bus timing out). The
   * value is kept (it is a real reading, stamped with its real times); the
   * deadlines it overran are counted in missedDeadlines.
   */
  slowReads: number;
  /** Readings in the RAM batch now, not yet in flash. */
  batched: number;
  /** Readings handed to the ring store. */
  flushed: number;
  /** Readings lost because the store refused a batch (no ring, flash error). */
  dropped: number;
  /** Blocks (ring records) written. */
  blocks: number;
}

/** What a collector needs from the capture that owns it. */
export interface CollectorHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly bootId: number;
  /** Hand the collector's sealed block to its ring. */
  flush(collector: Collector): void;
}

export class Collector {
  readonly key: string;
  readonly componentType: string;
  readonly componentName: string;
  readonly method: string;
  readonly kind: number;
  readonly arity: number;
  readonly component: Component;
  readonly block: BlockWriter;
  /** The host's clock (fixed for the host's life), read on every reading. */
  private readonly clock: Clock;
  /** The store's view of the batch: one record, the whole block. */
  readonly batch: { readonly bytes: Uint8Array; readonly ends: Uint32Array; readonly count: number };

  frequencyHz = 0;
  periodMs = 0;
  private originMs = 0;
  private index = 0;
  /** Monotonic ms of the next deadline. */
  nextDeadlineMs = 0;
  /** Monotonic ms of the latest tick that took a reading (or drained the FIFO). */
  lastRunMs = Number.NEGATIVE_INFINITY;
  /** time_requested (µs) of the latest read and its time base: a read never repeats it. */
  private lastRequestedUs = Number.NaN;
  private lastWallBase = false;
  /** Readings a tick may take: 1, or more when the period is shorter than the timer interval (> 1 kHz). */
  private perTick = 1;

  captured = 0;
  missedDeadlines = 0;
  sensorErrors = 0;
  slowReads = 0;
  flushed = 0;
  dropped = 0;
  blocks = 0;
  /** Set after a flush: the sampler checks whether the ring wants erase-ahead. */
  needsEraseCheck = false;
  /**
   * The ring when its erase-ahead was found due but not urgent and the tick had no slack for it, and
   * that ring's version then: until the version moves, only the slack can change the answer.
   */
  eraseWaitRing: Ring | undefined = undefined;
  eraseWaitVersion = 0;

  private readonly values: Float64Array;
  private readonly analog: AnalogReader | undefined;
  private readonly pin: GpioPin | undefined;
  private readonly fifo: SampleFifo | undefined;
  private fifoStepUs = 0;
  /** Monotonic µs the next FIFO sample is stamped with (samples are evenly spaced at the sensor's rate). */
  private fifoNextUs = 0;
  /** Monotonic µs the latest FIFO sample was stamped with (NaN before the first). */
  private fifoLastUs = Number.NaN;
  private readonly fifoSamples: Float64Array;
  private nextLogMs = 0;
  private suppressed = 0;

  constructor(
    private readonly host: CollectorHost,
    options: {
      key: string;
      componentType: string;
      componentName: string;
      method: string;
      kind: number;
      component: Component;
      batchBytes: number;
      analog?: AnalogReader;
      pin?: GpioPin;
      /** Use the component's FIFO (rates beyond the timer). */
      fifo?: SampleFifo;
    },
  ) {
    this.key = options.key;
    this.clock = host.clock;
    this.componentType = options.componentType;
    this.componentName = options.componentName;
    this.method = options.method;
    this.kind = options.kind;
    this.arity = kindArity(options.kind);
    this.component = options.component;
    this.analog = options.analog;
    this.pin = options.pin;
    this.fifo = options.fifo;
    this.block = new BlockWriter(options.kind, options.batchBytes);
    try {
      const step = options.component.valueStep?.(options.kind);
      if (step) this.block.declareStep(step.divisor ?? 0, step.multiplier ?? 0);
    } catch (error) {
      // A step is only an optimization: without one, values are stored exactly all the same.
      host.log.warn(
        `capture: ${options.componentName} ${options.method}: valueStep failed (${(error as Error)?.message ?? error}); step detected instead`,
      );
    }
    this.batch = { bytes: this.block.bytes, ends: this.block.ends, count: 1 };
    this.values = new Float64Array(this.arity > 0 ? this.arity : 1);
    if (options.kind !== KIND_READINGS) this.block.bindSample(this.values, host.bootId);
    this.fifoSamples = new Float64Array(options.fifo ? FIFO_MAX_SAMPLES * this.arity : 0);
  }

  /**
   * (Re)start the schedule at `hz` with the first deadline at `originMs`
   * (the sampler puts it on its timer's grid).
   */
  schedule(hz: number, originMs: number, tickMs: number): void {
    this.frequencyHz = hz;
    if (this.fifo) {
      const rate = this.fifo.start(this.kind, hz);
      this.fifoStepUs = 1e6 / (rate > 0 ? rate : hz);
      this.fifoNextUs = originMs * 1000;
      this.periodMs = FIFO_DRAIN_MS;
    } else this.periodMs = 1000 / hz;
    this.rephase(originMs);
    this.setTick(tickMs);
  }

  /** Follow the sampler's timer interval (deadlines do not move). */
  setTick(tickMs: number): void {
    const period = this.periodMs;
    this.perTick = period < tickMs ? Math.ceil(tickMs / period - 1e-9) : 1;
  }

  /**
   * Move the deadlines onto a new timer grid without restarting anything
   * (the sampler's interval changed): deadline 0 becomes `originMs`.
   */
  rephase(originMs: number): void {
    this.originMs = originMs;
    this.index = 0;
    this.nextDeadlineMs = originMs;
  }

  get usesFifo(): boolean {
    return this.fifo !== undefined;
  }

  /** Take the readings due at `nowMs`: the caller checked that nowMs ≥ nextDeadlineMs. */
  run(nowMs: number): void {
    const next = this.nextDeadlineMs;
    const period = this.periodMs;
    // The common tick serves one deadline (less than a period late): no division.
    const due = nowMs - next < period ? 1 : Math.floor((nowMs - next) / period) + 1;
    const index = this.index + due;
    this.index = index;
    this.nextDeadlineMs = this.originMs + index * period;
    this.lastRunMs = nowMs;
    if (this.fifo !== undefined) {
      // The sensor keeps its own schedule; a late drain loses nothing unless the FIFO overflowed.
      this.drainFifo();
      return;
    }
    if (due === 1) {
      this.sample();
      return;
    }
    const take = due < this.perTick ? due : this.perTick;
    this.missedDeadlines += due - take;
    for (let i = 0; i < take; i++) this.sample();
  }

  stats(): CollectorStats {
    return {
      key: this.key,
      componentType: this.componentType,
      componentName: this.componentName,
      method: this.method,
      frequencyHz: this.frequencyHz,
      captured: this.captured,
      missedDeadlines: this.missedDeadlines,
      sensorErrors: this.sensorErrors,
      slowReads: this.slowReads,
      batched: this.block.count,
      flushed: this.flushed,
      dropped: this.dropped,
      blocks: this.blocks,
    };
  }

  /**
   * One reading: time_requested before the read, time_received after it.
   * The hot path of capture (every reading of every polled collector): the
   * fixed-shape store is inlined, the 3-value kinds are tested first and
   * checked without a loop; a Readings map goes on in `sampleReadings`.
   */
  private sample(): void {
    const clock = this.clock;
    const wallMs = clock.wall();
    const startMs = clock.monotonic();
    const wallBase = wallMs >= MIN_VALID_WALL_MS;
    const requestedUs = Math.round((wallBase ? wallMs : startMs) * 1000);
    // Two reads in one clock tick (a reschedule at the instant of a read, or a ms clock at 1 kHz) would
    // carry the same time_requested: the deadline is missed instead. A wall clock stepped backwards is
    // a step, not a repeat, and is stored as it is.
    if (requestedUs === this.lastRequestedUs && wallBase === this.lastWallBase) {
      this.missedDeadlines++;
      return;
    }
    this.lastRequestedUs = requestedUs;
    this.lastWallBase = wallBase;
    const kind = this.kind;
    if (kind === KIND_READINGS) {
      this.sampleReadings(wallBase, requestedUs, startMs);
      return;
    }
    const component = this.component;
    const values = this.values;
    try {
      if (kind === KIND_ANGULAR_VELOCITY) component.angularVelocity!(values);
      else if (kind === KIND_LINEAR_ACCELERATION) component.linearAcceleration!(values);
      else
        switch (kind) {
          case KIND_LINEAR_VELOCITY:
            component.linearVelocity!(values);
            break;
          case KIND_GEO_POSITION:
            component.geoPosition!(values);
            break;
          case KIND_COMPASS_HEADING:
            values[0] = component.compassHeading!();
            break;
          case KIND_ANALOG:
            values[0] = this.analog!.read();
            break;
          case KIND_GPIO:
            values[0] = this.pin!.read() ? 1 : 0;
            break;
          case KIND_TICKS:
            values[0] = component.ticksCount!();
            break;
          case KIND_MOTOR_POSITION:
            values[0] = component.motorPosition!();
            break;
          case KIND_SERVO_POSITION:
            values[0] = component.servoPositionDegrees!();
            break;
        }
    } catch (error) {
      this.sensorError(startMs, error, "");
      return;
    }
    const endMs = clock.monotonic();
    let receivedUs = requestedUs;
    if (endMs !== startMs) {
      // Not an instant read (on a ms clock most reads are): its latency, and whether it overran a period.
      if (endMs - startMs > this.periodMs) this.slowReads++;
      receivedUs += Math.round((endMs - startMs) * 1000);
    }
    const arity = this.arity;
    if (arity === 3) {
      // NaN or ±Infinity in any of the three makes the sum NaN (v − v is 0 only for a finite v).
      const x = values[0]!;
      const y = values[1]!;
      const z = values[2]!;
      if (x - x + (y - y) + (z - z) !== 0) {
        this.sensorError(startMs, undefined, "the value is NaN or infinite");
        return;
      }
    } else {
      for (let i = 0; i < arity; i++) {
        const v = values[i]!;
        if (v - v !== 0) {
          this.sensorError(startMs, undefined, "the value is NaN or infinite");
          return;
        }
      }
    }
    // store(), inlined for fixed shapes (the block knows the values array and the boot id).
    const block = this.block;
    const added = block.addSample(wallBase, requestedUs, receivedUs, startMs);
    if (added !== 1 && !this.addToNewBlock(added, wallBase, requestedUs, receivedUs, startMs)) return;
    this.captured++;
  }

  /** addSample found no room (0): flush and add again. false: the reading cannot fit even alone (counted). */
  private addToNewBlock(
    added: number,
    wallBase: boolean,
    requestedUs: number,
    receivedUs: number,
    startMs: number,
  ): boolean {
    if (added === 0) {
      this.host.flush(this);
      added = this.block.addSample(wallBase, requestedUs, receivedUs, startMs);
    }
    if (added < 0) {
      this.sensorError(startMs, undefined, READING_ERROR_TEXT[READING_TOO_LARGE]!);
      return false;
    }
    return true;
  }

  /** sample() for a Readings map: the sensor writes its fields into the block's scratch. */
  private sampleReadings(wallBase: boolean, requestedUs: number, startMs: number): void {
    const block = this.block;
    let problem = READING_OK;
    try {
      block.beginReading();
      this.component.readings!(block);
      problem = block.endReading();
    } catch (error) {
      this.sensorError(startMs, error, "");
      return;
    }
    const endMs = this.clock.monotonic();
    if (endMs - startMs > this.periodMs) this.slowReads++;
    if (problem !== READING_OK) {
      const field = block.problemField;
      this.sensorError(
        startMs,
        undefined,
        field === "" ? READING_ERROR_TEXT[problem]! : `${READING_ERROR_TEXT[problem]} (field "${field}")`,
      );
      return;
    }
    this.store(wallBase, requestedUs, requestedUs + Math.round((endMs - startMs) * 1000), startMs);
  }

  /** Store a checked reading (Readings and FIFO samples in `values`; sample() inlines the fixed-shape case). */
  private store(wallBase: boolean, requestedUs: number, receivedUs: number, monotonicMs: number): void {
    const block = this.block;
    if (this.kind === KIND_READINGS) {
      if (!block.fitsReading(wallBase)) this.host.flush(this);
      if (!block.commitReading(wallBase, this.host.bootId, requestedUs, receivedUs, monotonicMs)) {
        this.sensorError(monotonicMs, undefined, READING_ERROR_TEXT[READING_TOO_LARGE]!);
        return;
      }
    } else {
      const added = block.addSample(wallBase, requestedUs, receivedUs, monotonicMs);
      if (added !== 1 && !this.addToNewBlock(added, wallBase, requestedUs, receivedUs, monotonicMs)) return;
    }
    this.captured++;
  }

  /**
   * FIFO mode: drain everything the sensor buffered. Samples are stamped at
   * the sensor's rate, one step apart (never later than now); samples lost to
   * an overflow are counted as missed and skipped in the time line. Both time
   * fields carry the sample time (the sensor took it; there was no request).
   */
  private drainFifo(): void {
    const fifo = this.fifo!;
    const clock = this.clock;
    const arity = this.arity;
    const values = this.values;
    const samples = this.fifoSamples;
    const step = this.fifoStepUs;
    let wallMs = 0;
    let nowMs = 0;
    let overflowed = false;
    try {
      const lost = fifo.takeOverflow(this.kind);
      if (lost === FIFO_LOST_UNKNOWN) overflowed = true;
      else {
        this.missedDeadlines += lost;
        this.fifoNextUs += lost * step;
      }
      wallMs = clock.wall();
      nowMs = clock.monotonic();
    } catch (error) {
      this.sensorError(clock.monotonic(), error, "");
      return;
    }
    const wallBase = isValidWall(wallMs);
    const shiftUs = wallBase ? (wallMs - nowMs) * 1000 : 0;
    const nowUs = nowMs * 1000;
    for (let round = 0; round < FIFO_MAX_ROUNDS; round++) {
      let n = 0;
      try {
        n = fifo.drain(this.kind, samples, FIFO_MAX_SAMPLES);
      } catch (error) {
        this.sensorError(nowMs, error, "");
        return;
      }
      if (overflowed && round === 0) {
        // The FIFO was reset: what it holds now was sampled since, ending about now. The time between
        // the last stamped sample and the first of these is the loss.
        const firstUs = nowUs - (n > 0 ? n - 1 : 0) * step;
        const gap = firstUs - this.fifoNextUs;
        if (gap > 0) {
          this.missedDeadlines += Math.round(gap / step);
          this.fifoNextUs = firstUs;
        }
      }
      // Samples after this one in the FIFO were taken after it: a full round has at least one more.
      const emptied = n < FIFO_MAX_SAMPLES;
      const after = emptied ? n - 1 : n;
      for (let i = 0; i < n; i++) {
        // One step after the previous sample. A sensor whose oscillator runs fast would push stamps
        // past now: the sample is then placed as late as the samples still to come allow (clamping
        // each to now stamped a run of samples with one time). One that runs slow would fall ever
        // further behind: a drain that empties the FIFO ends with a sample taken within about a step
        // of now, so its samples are pulled up to that. Never at or before the previous stamp.
        let at = this.fifoNextUs;
        const latest = nowUs - (after - i) * step;
        if (at > latest) at = latest;
        else if (emptied) {
          const earliest = latest - 2 * step;
          if (at < earliest) at = earliest;
        }
        if (at <= this.fifoLastUs) at = this.fifoLastUs + 1;
        this.fifoLastUs = at;
        this.fifoNextUs = at + step;
        let finite = true;
        for (let j = 0; j < arity; j++) {
          const v = samples[i * arity + j]!;
          values[j] = v;
          if (v - v !== 0) finite = false;
        }
        if (!finite) {
          this.sensorError(nowMs, undefined, "a FIFO sample is NaN or infinite");
          continue;
        }
        const stamp = Math.round(at + shiftUs);
        this.store(wallBase, stamp, stamp, nowMs);
      }
      if (n < FIFO_MAX_SAMPLES) break;
    }
  }

  private sensorError(nowMs: number, error: unknown, reason: string): void {
    this.sensorErrors++;
    if (nowMs < this.nextLogMs) {
      this.suppressed++;
      return;
    }
    const what = reason !== "" ? reason : `read failed: ${(error as Error)?.message ?? String(error)}`;
    const more = this.suppressed > 0 ? ` (${this.suppressed} more since the last report)` : "";
    this.host.log.warn(`capture: ${this.componentName} ${this.method}: ${what}${more}`);
    this.suppressed = 0;
    this.nextLogMs = nowMs + ERROR_LOG_INTERVAL_MS;
  }
}
