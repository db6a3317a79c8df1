/*
 * Deterministic simulated models (model name "fake" for every API), for the
 * desktop demo and tests. Values are functions of the read count n, not of
 * time, so a run replays identically at any speed:
 *   sensor          readings {temperature, humidity, pressure, battery}
 *   movement_sensor sine/cosine vectors, a slowly circling position, a sweeping heading
 *   board           analog value (n·37 + seed(name)) mod 4096; GPIO high on odd reads
 *   encoder         ticks = n; motor position n/100 revolutions; servo position n mod 181 degrees
 *
 * movement_sensor attribute `fifo_samples: n` adds a simulated n-sample
 * sensor FIFO for AngularVelocity and LinearAcceleration (see SimulatedFifo).
 *
 * Fault injection, any model: attributes `fail_every: k` (every k-th read
 * throws) and `nan_every: k` (every k-th read yields NaN). Board attributes
 * `analogs` / `gpios` (arrays of names) restrict which readers/pins exist.
 */
import type { Clock } from "../ports";
import type {
  Component,
  FieldWriter,
  GeoPoint,
  ModelContext,
  ModelFactory,
  SampleFifo,
  Vector3,
} from "./component";
import {
  COMPONENT_BOARD,
  COMPONENT_ENCODER,
  COMPONENT_MOTOR,
  COMPONENT_MOVEMENT_SENSOR,
  COMPONENT_SENSOR,
  COMPONENT_SERVO,
  KIND_ANGULAR_VELOCITY,
  KIND_LINEAR_ACCELERATION,
} from "./methods";
import { ModelRegistry } from "./registry";

class Faults {
  private readonly failEvery: number;
  private readonly nanEvery: number;
  n = 0;

  constructor(attributes: Record<string, unknown>) {
    this.failEvery = positiveInteger(attributes, "fail_every");
    this.nanEvery = positiveInteger(attributes, "nan_every");
  }

  /** Count one read; throws on a scheduled failure; returns NaN-or-1 as a multiplier. */
  next(): number {
    const n = ++this.n;
    if (this.failEvery > 0 && n % this.failEvery === 0) throw new Error(`simulated failure on read ${n}`);
    return this.nanEvery > 0 && n % this.nanEvery === 0 ? Number.NaN : 1;
  }
}

function positiveInteger(attributes: Record<string, unknown>, name: string): number {
  const value = attributes[name];
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`attribute ${name} must be a positive integer`);
  }
  return value;
}

function names(attributes: Record<string, unknown>, name: string): string[] | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`attribute ${name} must be an array of strings`);
  }
  return value as string[];
}

function seed(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 4096;
  return h;
}

export const fakeSensor: ModelFactory = {
  api: COMPONENT_SENSOR,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    return {
      readings(out: FieldWriter): void {
        const k = faults.next();
        const n = faults.n;
        out.number("temperature", (20 + 5 * Math.sin(n / 10)) * k);
        out.number("humidity", 50 + 10 * Math.cos(n / 15));
        out.number("pressure", 1013.25 + Math.sin(n / 50));
        out.number("battery", 100 - (n % 1000) / 10);
      },
    };
  },
};

/**
 * A simulated sensor FIFO (attribute `fifo_samples: capacity`): the "sensor"
 * samples angular velocity and linear acceleration on the clock at the
 * started rate, whatever the CPU is doing, and overflows when not drained.
 */
class SimulatedFifo implements SampleFifo {
  private readonly streams: { startMs: number; rate: number; taken: number; overflow: number }[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
  ) {}

  supports(kind: number): boolean {
    return kind === KIND_ANGULAR_VELOCITY || kind === KIND_LINEAR_ACCELERATION;
  }

  start(kind: number, hz: number): number {
    this.streams[kind] = { startMs: this.clock.monotonic(), rate: hz, taken: 0, overflow: 0 };
    return hz;
  }

  drain(kind: number, out: Float64Array, maxSamples: number): number {
    const s = this.streams[kind];
    if (!s) return 0;
    const produced = Math.floor(((this.clock.monotonic() - s.startMs) * s.rate) / 1000 + 1e-9) + 1;
    let available = produced - s.taken;
    if (available > this.capacity) {
      s.overflow += available - this.capacity;
      s.taken += available - this.capacity;
      available = this.capacity;
    }
    const n = available < maxSamples ? available : maxSamples;
    for (let i = 0; i < n; i++) {
      const j = s.taken + i;
      out[i * 3] = kind === KIND_ANGULAR_VELOCITY ? Math.sin(j / 20) : 0.1 * Math.sin(j / 5);
      out[i * 3 + 1] = kind === KIND_ANGULAR_VELOCITY ? Math.cos(j / 20) : 0.1 * Math.cos(j / 5);
      out[i * 3 + 2] = kind === KIND_ANGULAR_VELOCITY ? (j % 7) - 3 : 9.80665;
    }
    s.taken += n;
    return n;
  }

  takeOverflow(kind: number): number {
    const s = this.streams[kind];
    if (!s) return 0;
    const lost = s.overflow;
    s.overflow = 0;
    return lost;
  }
}

export const fakeMovementSensor: ModelFactory = {
  api: COMPONENT_MOVEMENT_SENSOR,
  create({ attributes, clock }: ModelContext): Component {
    const faults = new Faults(attributes);
    const fifoSamples = positiveInteger(attributes, "fifo_samples");
    return {
      ...(fifoSamples > 0 ? { fifo: new SimulatedFifo(clock, fifoSamples) } : {}),
      angularVelocity(out: Vector3): void {
        const k = faults.next();
        const n = faults.n;
        out[0] = Math.sin(n / 20) * k;
        out[1] = Math.cos(n / 20);
        out[2] = (n % 7) - 3;
      },
      linearAcceleration(out: Vector3): void {
        const k = faults.next();
        const n = faults.n;
        out[0] = 0.1 * Math.sin(n / 5) * k;
        out[1] = 0.1 * Math.cos(n / 5);
        out[2] = 9.80665;
      },
      linearVelocity(out: Vector3): void {
        const k = faults.next();
        out[0] = 0.5 * k;
        out[1] = 0;
        out[2] = (faults.n % 3) / 10;
      },
      geoPosition(out: GeoPoint): void {
        const k = faults.next();
        const n = faults.n;
        out[0] = (40.7128 + 0.001 * Math.sin(n / 100)) * k;
        out[1] = -74.006 + 0.001 * Math.cos(n / 100);
        out[2] = 10 + (n % 5);
      },
      compassHeading(): number {
        return ((faults.next() * faults.n * 3) % 360) as number;
      },
    };
  },
};

export const fakeBoard: ModelFactory = {
  api: COMPONENT_BOARD,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    const analogs = names(attributes, "analogs");
    const gpios = names(attributes, "gpios");
    return {
      analogReader(readerName: string) {
        if (analogs && !analogs.includes(readerName)) return undefined;
        const offset = seed(readerName);
        return { read: () => ((faults.next() * (faults.n * 37 + offset)) % 4096) as number };
      },
      gpioPin(pinName: string) {
        if (gpios && !gpios.includes(pinName)) return undefined;
        return {
          read: () => {
            faults.next();
            return faults.n % 2 === 1;
          },
        };
      },
    };
  },
};

export const fakeEncoder: ModelFactory = {
  api: COMPONENT_ENCODER,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    return { ticksCount: () => faults.next() * faults.n };
  },
};

export const fakeMotor: ModelFactory = {
  api: COMPONENT_MOTOR,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    return { motorPosition: () => (faults.next() * faults.n) / 100 };
  },
};

export const fakeServo: ModelFactory = {
  api: COMPONENT_SERVO,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    return { servoPositionDegrees: () => faults.next() * (faults.n % 181) };
  },
};

/** A registry holding every simulated model under the name "fake" (also "rdk:builtin:fake"). */
export function simulatedModels(): ModelRegistry {
  const registry = new ModelRegistry();
  for (const factory of [fakeSensor, fakeMovementSensor, fakeBoard, fakeEncoder, fakeMotor, fakeServo]) {
    registry.register("fake", factory);
    registry.register("rdk:builtin:fake", factory);
  }
  return registry;
}
