/*
 * The ports: everything the platform-free core needs from the world.
 *
 * Nothing in modules/ (outside modules/platform/) imports a Moddable or Node
 * module. Callers hand these small objects in: Node implementations live in
 * host/, Moddable ones in modules/platform/{esp32,lin}/.
 */

/** A NOR flash region (an ESP32 data partition, or a file-backed image on a computer). */
export interface FlashPort {
  /** Total bytes; a whole number of sectors. */
  readonly size: number;
  /** Erase unit in bytes (4096 on ESP32 SPI NOR). */
  readonly sectorSize: number;
  /** Copy `target.length` bytes starting at `offset` into `target`. Out of range throws. */
  read(offset: number, target: Uint8Array): void;
  /**
   * Program `data` at `offset`. NOR rules: programming only clears bits
   * (1 → 0); a write that would set a bit is a caller bug and throws on the
   * checking implementations. Out of range throws.
   */
  write(offset: number, data: Uint8Array): void;
  /** Erase sector `index` (all bytes become 0xFF). */
  eraseSector(index: number): void;
  /**
   * Optional: the whole partition as read-only bytes that always show what is on flash, every write
   * and erase included (memory-mapped flash: Moddable's `flash.map()` on ESP32). The store then reads
   * records straight from it instead of copying sectors into its buffer first. Throws or returns
   * undefined when the partition cannot be mapped: reads then copy.
   */
  map?(): Uint8Array | undefined;
}

/** Time. Both values are milliseconds and may be fractional. */
export interface Clock {
  /** Monotonic time since boot; never goes backwards, unaffected by clock setting. */
  monotonic(): number;
  /** Wall-clock Unix epoch time, or NaN while the wall clock is not known to be valid. */
  wall(): number;
}

/** Opaque timer handle. */
export type TimerId = unknown;

/** Timers, shaped like Moddable's `timer` module (each timer costs a malloc on the device: use few). */
export interface Timers {
  /** Call `callback` after `delayMs`, then every `repeatMs` if given. */
  set(callback: () => void, delayMs: number, repeatMs?: number): TimerId;
  /**
   * There is no re-arm: to move a timer, clear it and set a new one. Moddable's lin timer keeps a
   * freed record firing when a timer is re-armed (Timer.schedule) from its own callback.
   */
  clear(id: TimerId): void;
  /**
   * True when a repeating timer keeps its own grid however long its callbacks take (Moddable's on the ESP32:
   * the next firing is the last due time plus the interval). Absent or false: it re-arms from when
   * it fired (Node's setInterval, GLib's in the simulator), and the sampler holds it on its grid by hand.
   */
  readonly steady?: boolean;
}

/**
 * Small persistent key/value store (NVS `Preference` on ESP32).
 * Keys ≤ 15 characters, values ≤ 4000 bytes: callers keep within that.
 */
export interface KeyValueStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

export interface HttpRequest {
  /** Path with leading slash, e.g. "/viam.app.v1.RobotService/Config". */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The whole exchange must complete within this many ms or fail with a timeout. */
  timeoutMs: number;
  /** A response body longer than this fails the call (and the connection is dropped). */
  maxResponseBytes: number;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * HTTP/1.1 POST to one origin over one persistent (keep-alive) connection.
 * Transport failures (refused, reset, timeout, too large) reject with a
 * TransportError.
 */
export interface HttpTransport {
  request(request: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

export type TransportErrorKind = "refused" | "reset" | "timeout" | "too-large" | "tls" | "other";

export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  constructor(kind: TransportErrorKind, message: string) {
    super(message);
    this.kind = kind;
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "TransportError" });
  }
}

/** Logging. Never pass secrets or tokens. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
};
