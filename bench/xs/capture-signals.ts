/*
 * The three realistic signals of issue 13, generated deterministically (a
 * seeded PRNG, values a function of the read count only), and the flash they
 * take through the real capture path and the real ring store on the NOR
 * emulation. Runs in Node and in XS (no platform imports).
 *
 *   imu    MPU-6050 gyro at 200 Hz (or 100 Hz for the flash-life figure):
 *          slow sines of 20/10/5 °/s plus the datasheet's rate noise
 *          (0.005 °/s/√Hz over a ~100 Hz band ≈ 0.05 °/s ≈ 6.5 counts rms),
 *          quantized to int16 counts and divided by 131 as the driver does.
 *   env    BME280-like Readings map at 1 Hz, two decimals per field as its
 *          drivers report them: temperature, humidity, pressure, battery.
 *   adc    12-bit ADC codes (0..4095) at 10 Hz: a slow sine plus ±2 codes of noise.
 *
 * Flush every 5 s (the data manager's default) and the default 1000-byte batch.
 */
import { Capture } from "../../modules/capture/capture";
import type { Component, FieldWriter, ModelFactory, Vector3 } from "../../modules/capture/component";
import { ModelRegistry } from "../../modules/capture/registry";
import { parseMachineConfig } from "../../modules/config/machine-config";
import type { Clock, KeyValueStore, TimerId, Timers } from "../../modules/ports";
import { silentLogger } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";

const WALL = Date.UTC(2026, 0, 1);

/** mulberry32: a small, well-known 32-bit PRNG; deterministic on every engine. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box–Muller). */
  gauss(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

const TAU = 2 * Math.PI;

/*
 * Each model computes its whole signal when it is created and then only
 * indexes a table, so that the computrons measured for capture are capsync's
 * (the sines and Gaussian noise would otherwise cost more than capture itself).
 * The IMU and ADC tables hold whole periods of every sine (they wrap seamlessly);
 * the env table holds one hour.
 */
function imuModel(hz: number): ModelFactory {
  return {
    api: "rdk:component:movement_sensor",
    create(): Component {
      const rng = new Prng(0x1ee7);
      const count = (dps: number): number => {
        const c = Math.round(dps * 131 + 6.5 * rng.gauss());
        return c > 32767 ? 32767 : c < -32768 ? -32768 : c;
      };
      // 10 s: 5, 3 and 2 whole periods of the three sines.
      const length = 10 * hz;
      const table = new Float64Array(length * 3);
      for (let n = 0; n < length; n++) {
        const t = n / hz;
        table[n * 3] = count(20 * Math.sin(TAU * 0.5 * t)) / 131;
        table[n * 3 + 1] = count(10 * Math.sin(TAU * 0.3 * t + 1)) / 131;
        table[n * 3 + 2] = count(5 * Math.sin(TAU * 0.2 * t + 2)) / 131;
      }
      let at = 0;
      return {
        // As the MPU-6050 driver declares it: value = count / 131.
        valueStep: () => ({ divisor: 131 }),
        angularVelocity(out: Vector3): void {
          out[0] = table[at]!;
          out[1] = table[at + 1]!;
          out[2] = table[at + 2]!;
          at += 3;
          if (at === table.length) at = 0;
        },
      };
    },
  };
}

const envModel: ModelFactory = {
  api: "rdk:component:sensor",
  create(): Component {
    const rng = new Prng(0xb3e280);
    const twoDecimals = (x: number): number => Math.round(x * 100) / 100;
    const length = 3600;
    const table = new Float64Array(length * 4);
    for (let t = 0; t < length; t++) {
      table[t * 4] = twoDecimals(21.5 + 0.8 * Math.sin((TAU * t) / 3600) + 0.01 * rng.gauss());
      table[t * 4 + 1] = twoDecimals(45 + 3 * Math.sin((TAU * t) / 5400) + 0.02 * rng.gauss());
      table[t * 4 + 2] = twoDecimals(1013.25 + 0.6 * Math.sin((TAU * t) / 7200) + 0.01 * rng.gauss());
      table[t * 4 + 3] = twoDecimals(3.95 - t / 200_000);
    }
    let at = 0;
    return {
      readings(out: FieldWriter): void {
        out.number("temperature", table[at]!);
        out.number("humidity", table[at + 1]!);
        out.number("pressure", table[at + 2]!);
        out.number("battery", table[at + 3]!);
        at += 4;
        if (at === table.length) at = 0;
      },
    };
  },
};

const adcModel: ModelFactory = {
  api: "rdk:component:board",
  create(): Component {
    const rng = new Prng(0xadc);
    const table = new Float64Array(600); // one 60 s period at 10 Hz
    for (let n = 0; n < table.length; n++) {
      const c = Math.round(2048 + 600 * Math.sin((TAU * n) / 600) + 1.2 * rng.gauss());
      table[n] = c < 0 ? 0 : c > 4095 ? 4095 : c;
    }
    let at = 0;
    return {
      analogReader: () => ({
        read(): number {
          const v = table[at++]!;
          if (at === table.length) at = 0;
          return v;
        },
      }),
    };
  },
};

export type Signal = "imu200" | "imu100" | "env" | "adc";

export function signalRegistry(): ModelRegistry {
  return new ModelRegistry()
    .register("bench-imu-200", imuModel(200))
    .register("bench-imu-100", imuModel(100))
    .register("bench-env", envModel)
    .register("bench-adc", adcModel);
}

export function signalConfig(signal: Signal): unknown {
  const method = (m: string, hz: number, params?: Record<string, string>) => [
    {
      type: "data_manager",
      attributes: {
        capture_methods: [
          { method: m, capture_frequency_hz: hz, ...(params ? { additional_params: params } : {}) },
        ],
      },
    },
  ];
  const component =
    signal === "imu200" || signal === "imu100"
      ? {
          name: "imu",
          api: "rdk:component:movement_sensor",
          model: signal === "imu200" ? "bench-imu-200" : "bench-imu-100",
          service_configs: method("AngularVelocity", signal === "imu200" ? 200 : 100),
        }
      : signal === "env"
        ? {
            name: "env",
            api: "rdk:component:sensor",
            model: "bench-env",
            service_configs: method("Readings", 1),
          }
        : {
            name: "board",
            api: "rdk:component:board",
            model: "bench-adc",
            service_configs: method("Analogs", 10, { reader_name: "a1" }),
          };
  return { services: [], components: [component] };
}

/** A fresh key/value store: boot id 1 on every run (without one the boot id is random, and so its varint's length). */
export function memoryKv(): KeyValueStore {
  const map = new Map<string, string>();
  return {
    get: (k) => map.get(k),
    set: (k, v) => {
      map.set(k, v);
    },
    delete: (k) => {
      map.delete(k);
    },
  };
}

/** One timer stepped by hand, allocation-free. */
export class StepClock implements Clock, Timers {
  now = 0;
  private callback: (() => void) | undefined;
  private due = Number.POSITIVE_INFINITY;
  private repeat = 0;
  monotonic(): number {
    return this.now;
  }
  wall(): number {
    return WALL + this.now;
  }
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId {
    this.callback = callback;
    this.schedule(1, delayMs, repeatMs);
    return 1;
  }
  schedule(_id: TimerId, delayMs: number, repeatMs?: number): void {
    this.due = this.now + delayMs;
    this.repeat = repeatMs ?? 0;
  }
  clear(): void {
    this.callback = undefined;
    this.due = Number.POSITIVE_INFINITY;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.due <= end) {
      this.now = this.due;
      this.due += this.repeat;
      this.callback!();
    }
    this.now = end;
  }
}

export interface FlashFigure {
  /** Flash bytes the ring used (frames, sector headers, records) per reading. */
  bytesPerReading: number;
  readings: number;
  records: number;
}

/** Capture `seconds` of `signal` into a real ring store on a NOR image; bytes used per reading. */
export function flashFigure(signal: Signal, seconds: number): FlashFigure {
  const store = openRingStore({ flash: new NorImage({ size: 256 * 4096 }) });
  const clock = new StepClock();
  const capture = new Capture({
    store,
    clock,
    timers: clock,
    log: silentLogger,
    registry: signalRegistry(),
    kv: memoryKv(),
  });
  capture.apply(parseMachineConfig(signalConfig(signal)));
  clock.advance(seconds * 1000);
  capture.flush();
  const ring = store.rings()[0]!;
  const counters = ring.counters();
  const stats = capture.stats()[0]!;
  if (counters.dropped > 0 || stats.dropped > 0 || stats.sensorErrors > 0) {
    throw new Error(`flashFigure(${signal}): the ring dropped data or the sensor failed`);
  }
  capture.close();
  return {
    bytesPerReading: counters.bytesUsed / stats.flushed,
    readings: stats.flushed,
    records: counters.appended,
  };
}

/** Years until a 1 MiB partition continuously overwritten at `bytesPerSecond` wears out its 100k erase cycles. */
export function flashLifeYears(bytesPerSecond: number): number {
  const partition = 1024 * 1024;
  const secondsPerYear = 365.25 * 86400;
  return (partition * 100_000) / bytesPerSecond / secondsPerYear;
}

export function flashFigures(): Record<string, number> {
  const imu200 = flashFigure("imu200", 120);
  const imu100 = flashFigure("imu100", 120);
  const env = flashFigure("env", 3600);
  const adc = flashFigure("adc", 1200);
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    flashBytesPerReadingImu200Hz: round(imu200.bytesPerReading),
    flashBytesPerReadingReadings4At1Hz: round(env.bytesPerReading),
    flashBytesPerReadingAnalog10Hz: round(adc.bytesPerReading),
    flashBytesPerReadingImu100Hz: round(imu100.bytesPerReading),
    flashLifeYears1MiB100HzImu: round(flashLifeYears(100 * imu100.bytesPerReading), 1),
    offlineHours1MiB100HzImu: round((1024 * 1024) / (100 * imu100.bytesPerReading) / 3600, 2),
  };
}
