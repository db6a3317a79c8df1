/*
 * What a component must offer to be captured. Small on purpose: a user's own
 * sensor is one object with one method (see docs/capture.md, "Your own sensor").
 *
 * Methods write into buffers the collector owns (a Float64Array, a
 * FieldWriter) or return a number, so a reading allocates nothing: on the
 * device the capture hot path runs hundreds of times a second inside a
 * ~160 KB heap with a stop-the-world collector.
 *
 * A method may throw, or produce NaN/±Infinity: the collector counts that as
 * a sensor error, stores nothing for that deadline and keeps its schedule.
 */
import type { Clock, Logger } from "../ports";

/**
 * Where a Readings method writes its map. Keys are written in order; a sensor
 * that always writes the same keys in the same order (the normal case) is
 * stored with its field names once per block, not once per reading.
 */
export interface FieldWriter {
  number(name: string, value: number): void;
  bool(name: string, value: boolean): void;
  string(name: string, value: string): void;
  null(name: string): void;
  /** Open a nested map under `name`; close it with `endObject`. */
  beginObject(name: string): void;
  endObject(): void;
  /** Any JSON-like value (number, string, boolean, null, array, plain object). Slower; allocates nothing itself. */
  value(name: string, value: unknown): void;
}

/** x, y, z (Viam's Vector3). */
export type Vector3 = Float64Array;
/** latitude, longitude (degrees), altitude_m. */
export type GeoPoint = Float64Array;

export interface AnalogReader {
  read(): number;
}

export interface GpioPin {
  /** true when the pin reads high. */
  read(): boolean;
}

/**
 * A sensor FIFO that samples faster than the sampler's 1 ms timer, and keeps
 * sampling through flash stalls (e.g. an MPU-6050 at up to 1 kHz with a
 * 1 KB FIFO). The collector drains it every FIFO_DRAIN_MS and stamps the
 * samples evenly at the sensor's rate.
 */
export interface SampleFifo {
  /** Whether this FIFO carries method `kind` (KIND_* in methods.ts). */
  supports(kind: number): boolean;
  /** Start (or retune) sampling `kind` at about `hz`; returns the rate the device really runs at. */
  start(kind: number, hz: number): number;
  /**
   * Move up to `maxSamples` of `kind`'s oldest samples into `out` (stride =
   * the method's arity). Returns how many were written.
   */
  drain(kind: number, out: Float64Array, maxSamples: number): number;
  /**
   * Samples of `kind` lost to overflow since the last call (counted as missed
   * deadlines), or FIFO_LOST_UNKNOWN when the FIFO overflowed and had to be
   * reset: the collector then counts the gap in time the loss left.
   */
  takeOverflow(kind: number): number;
}

/** `SampleFifo.takeOverflow` result: samples were lost, how many is unknown. */
export const FIFO_LOST_UNKNOWN = -1;

/**
 * How a driver makes a method's values from its sensor's integer codes, when
 * it knows: value = code / divisor (an MPU-6050 gyro: 131 LSB per °/s), or
 * code × multiplier (its accelerometer: 9.80665 / 16384 m/s² per LSB), with
 * exactly that IEEE operation. Capture then stores the codes (a few bits per
 * value instead of 8 bytes). Optional: without it the step is detected
 * (whole numbers, decimals); a value that is not such a code is still stored
 * exactly, so a wrong declaration costs flash, never data.
 */
export interface ValueStep {
  readonly divisor?: number;
  readonly multiplier?: number;
}

/**
 * One object per configured component. Implement the members of the
 * component's API that the model supports; a configured method whose member
 * is missing is a config error naming component and method.
 */
export interface Component {
  /** sensor, movement_sensor: Readings. */
  readings?(out: FieldWriter): void;
  /** movement_sensor */
  angularVelocity?(out: Vector3): void;
  linearAcceleration?(out: Vector3): void;
  linearVelocity?(out: Vector3): void;
  /** movement_sensor Position. */
  geoPosition?(out: GeoPoint): void;
  compassHeading?(): number;
  /** board: resolve a reader/pin once, at configure time (undefined: no such reader/pin). */
  analogReader?(readerName: string): AnalogReader | undefined;
  gpioPin?(pinName: string): GpioPin | undefined;
  /** encoder */
  ticksCount?(): number;
  /** motor: revolutions */
  motorPosition?(): number;
  /** servo: degrees */
  servoPositionDegrees?(): number;
  /** The step of method `kind`'s values (KIND_* in methods.ts), if the driver knows it. */
  valueStep?(kind: number): ValueStep | undefined;
  /** Optional FIFO for rates beyond the timer (movement_sensor). */
  fifo?: SampleFifo;
  /** Release hardware (called when the component leaves the configuration). */
  close?(): void;
}

/** What a model's factory receives. */
export interface ModelContext {
  /** Component name from the config. */
  name: string;
  /** The component's `attributes` from the config (untrusted: validate). */
  attributes: Record<string, unknown>;
  clock: Clock;
  log: Logger;
}

export interface ModelFactory {
  /** The component API this model implements, e.g. "rdk:component:sensor". */
  readonly api: string;
  /** Build the component; throw an Error with a clear message for bad attributes. */
  create(context: ModelContext): Component;
}
