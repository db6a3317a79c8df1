/*
 * What the boot sequence needs from the rest of the firmware, kept small so
 * boot is testable with any implementation: the rpc client (config fetch),
 * the config module (validation), and the data manager (store + capture +
 * sync). main.ts wires the real ones.
 */

/** A machine config as fetched from the cloud (RobotService/Config). */
export interface FetchedConfig {
  /** The cloud's revision string ("" when it sends none). */
  revision: string;
  /** The decoded config, shaped like Viam's JSON machine config. */
  config: unknown;
}

export interface CloudConfigSource {
  /** Authenticate if needed and fetch the part's config. Rejects with RpcError / TransportError. */
  fetchConfig(): Promise<FetchedConfig>;
}

/** The result of validating a machine config. */
export interface ConfigInterpretation<S> {
  /**
   * Settings to run, or null when the config as a whole is unusable (not a
   * config at all, two data_manager services, …): the last good one stays.
   */
  settings: S | null;
  /** Entries that were rejected (each names its component and method) or why the whole config was. */
  errors: string[];
}

export type InterpretConfig<S> = (config: unknown) => ConfigInterpretation<S>;

/** The store, capture and sync, as one thing boot starts and reconfigures. */
export interface DataPlane<S> {
  /** Run with these settings; called again on every config change, without a reboot. */
  apply(settings: S): void;
  /** Upload now instead of waiting for the interval or a backoff (the network just came back). */
  syncNow?(): void;
  close(): void;
}

/** Wall-clock source that needs the network (SNTP on ESP32). */
export interface TimeSync {
  /** Ask for the time; `done` gets epoch ms, or NaN with a reason. Called once per `start`. */
  start(done: (epochMs: number, detail: string) => void): void;
  close(): void;
}
