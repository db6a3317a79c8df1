/*
 * Models by name, injected by the platform: the core ships simulated models,
 * the ESP32 build adds its drivers, users add their own. The core imports no
 * driver; it only looks models up here.
 */
import type { ModelFactory } from "./component";

export class ModelRegistry {
  private readonly factories = new Map<string, ModelFactory>();

  /** Register `model` (e.g. "fake", "acme:sensor:thermo") for its factory's API. Re-registering replaces. */
  register(model: string, factory: ModelFactory): this {
    this.factories.set(`${factory.api}|${model}`, factory);
    return this;
  }

  /** Copy every model of `other` into this registry. */
  include(other: ModelRegistry): this {
    for (const [key, factory] of other.factories) this.factories.set(key, factory);
    return this;
  }

  lookup(api: string, model: string): ModelFactory | undefined {
    return this.factories.get(`${api}|${model}`);
  }

  /** "api model" pairs, for error messages and docs. */
  list(): string[] {
    return [...this.factories.keys()].map((k) => k.replace("|", " "));
  }
}
