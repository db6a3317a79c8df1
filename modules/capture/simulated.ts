/*
 * Deterministic simulated models (model name "fake" for every API), for the
 * desktop demo and tests. Values are functions of the read count n, not of
 * time, so a run replays identically at any speed:
 *   sensor          readings {temperature, humidity, pressure, battery}
 *   movement_sensor sine/cosine vectors, a slowly circling position, a sweeping heading
 *   board           analog value (n·37 + seed(name)) mod 4096; GPIO high on odd reads
 *   encoder         ticks = n; motor position n/100 revolutions; servo position n mod 181 degrees
 *
 * Fault injection, any model: attributes `fail_every: k` (every k-th read
 * throws) and `nan_every: k` (every k-th read yields NaN). Board attributes
 * `analogs` / `gpios` (arrays of names) restrict which readers/pins exist.
 */
import type { Component, FieldWriter, GeoPoint, ModelContext, ModelFactory, Vector3 } from "./component";
import {
  COMPONENT_BOARD,
  COMPONENT_ENCODER,
  COMPONENT_MOTOR,
  COMPONENT_MOVEMENT_SENSOR,
  COMPONENT_SENSOR,
  COMPONENT_SERVO,
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

export const fakeMovementSensor: ModelFactory = {
  api: COMPONENT_MOVEMENT_SENSOR,
  create({ attributes }: ModelContext): Component {
    const faults = new Faults(attributes);
    return {
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
