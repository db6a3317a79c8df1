/*
 * Test sensors (platform-free): scripted values, slow reads that stall the
 * fake clock, throws on demand. Register them next to the simulated models.
 */
import type { Component, FieldWriter, ModelFactory } from "../../modules/capture/component";
import { COMPONENT_MOVEMENT_SENSOR, COMPONENT_SENSOR } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { simulatedModels } from "../../modules/capture/simulated";
import type { FakeClock } from "./fake-clock";

/** Shared control over the "scripted" models of one registry. */
export class SensorScript {
  /** Reads so far per component name. */
  reads = new Map<string, number>();
  /** ms the fake clock advances inside each read (a slow sensor / bus). */
  readCostMs = 0;
  /** When set, a read for which this returns true throws. */
  failWhen: ((name: string, n: number) => boolean) | undefined;
  /** Readings map a scripted sensor writes on read n (default: {n, half}). */
  fields: (n: number, out: FieldWriter) => void = (n, out) => {
    out.number("n", n);
    out.number("half", n / 2);
  };

  constructor(readonly clock: FakeClock) {}

  next(name: string): number {
    const n = (this.reads.get(name) ?? 0) + 1;
    this.reads.set(name, n);
    if (this.readCostMs > 0) this.clock.stall(this.readCostMs);
    if (this.failWhen?.(name, n)) throw new Error(`scripted failure of ${name} on read ${n}`);
    return n;
  }
}

/** simulatedModels() plus "scripted" sensor and movement_sensor models driven by `script`. */
export function testModels(script: SensorScript): ModelRegistry {
  const scriptedSensor: ModelFactory = {
    api: COMPONENT_SENSOR,
    create: ({ name }): Component => ({
      readings: (out) => script.fields(script.next(name), out),
    }),
  };
  const scriptedImu: ModelFactory = {
    api: COMPONENT_MOVEMENT_SENSOR,
    create: ({ name }): Component => ({
      angularVelocity: (out) => {
        const n = script.next(name);
        out[0] = n;
        out[1] = -n;
        out[2] = n / 4;
      },
    }),
  };
  return new ModelRegistry()
    .include(simulatedModels())
    .register("scripted", scriptedSensor)
    .register("scripted", scriptedImu);
}
