/*
 * A NOR flash chip emulated over a Uint8Array, with the rules a real SPI NOR
 * part enforces and the faults a power cut causes. Platform-free so that the
 * XS-lane tests, the Linux-simulator adapter and the Node file-backed port
 * (host/flash-file.ts) all share one set of rules.
 *
 * Rules: erase sets a whole sector to 0xFF; programming may only clear bits
 * (a write that would turn a 0 back into 1 is a caller bug and throws rather
 * than silently AND-ing as the silicon would); anything out of range throws.
 *
 * Faults: `armPowerCut` picks the k-th mutating operation (program or erase,
 * counted from 0 since construction) to be torn. The torn operation leaves
 * the image as a real cut might, then throws PowerCutError; every later
 * operation throws PowerCutError too, until `reboot()` restores power (the
 * image is kept: the test then reopens the store on it).
 *
 * Driver errors that are not power cuts: `armFault` makes the k-th mutating
 * operation fail with a FlashFaultError after leaving its target torn (the
 * chip stays powered and later operations work), and `failSector` makes every
 * program or erase touching a sector fail that way until `healSector`: what a
 * worn or write-protected sector does.
 */
import type { FlashPort } from "../ports";

export class PowerCutError extends Error {
  constructor(message: string) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, and assigning over a
    // frozen inherited property throws (the "override mistake").
    Object.defineProperty(this, "name", { value: "PowerCutError" });
  }
}

/**
 * How the interrupted operation leaves its target:
 * - "none": nothing changed (cut just before the operation);
 * - "prefix": a program wrote only its first n bytes, an erase reset only the
 *   sector's first n bytes (n uniform in [0, length], so "complete but
 *   unacknowledged" is included);
 * - "bits": a program cleared a random subset of the bits it should have
 *   cleared; an erase set a random subset of the sector's bits;
 * - "random": the target range holds random bytes (a badly torn erase; for a
 *   program, treated as "bits", since programming can never set a bit);
 * - "tail": the operation reached only the end of its range: a program wrote
 *   only its last n bytes, an erase reset only the sector's last n bytes, so
 *   a sector header (at the start) survives an interrupted erase intact.
 */
export type TearMode = "none" | "prefix" | "bits" | "random" | "tail";

/** Every tear kind, for tests that iterate over them. */
export const TEAR_MODES: readonly TearMode[] = ["none", "prefix", "bits", "random", "tail"];

/** A program or erase the chip reported as failed (not a power cut: the chip stays usable). */
export class FlashFaultError extends Error {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, "name", { value: "FlashFaultError" });
  }
}

export interface PowerCutPlan {
  /** Index of the mutating operation (program or erase) that is torn, counted from 0. */
  atOperation: number;
  tear: TearMode;
  /** Seed for the tear's randomness (prefix length, which bits). */
  seed?: number;
}

export interface NorImageOptions {
  /** Total bytes (a whole number of sectors); ignored when `bytes` is given. */
  size?: number;
  sectorSize?: number;
  /** An existing image to operate on in place (e.g. loaded from a file). */
  bytes?: Uint8Array;
  /** Told about every changed range, torn ones included (file backing writes it through). */
  onChange?: (offset: number, length: number) => void;
}

export class NorImage implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  /** The image itself. Tests may corrupt it directly to stage foreign contents. */
  readonly bytes: Uint8Array;

  /** Program (write) operations that completed. */
  programOps = 0;
  bytesProgrammed = 0;
  /** Sector erases that completed, all sectors together. */
  erases = 0;
  readOps = 0;
  bytesRead = 0;
  /** Mutating operations attempted so far (programs and erases, torn ones included). */
  operations = 0;
  /** Completed erases per sector index. */
  readonly sectorErases: Uint32Array;

  private readonly onChange: ((offset: number, length: number) => void) | undefined;
  private plan: PowerCutPlan | undefined;
  // Stryker disable next-line ArrayDeclaration: a non-plan element never matches an operation index (its atOperation is undefined)
  private faults: PowerCutPlan[] = [];
  private readonly failing = new Map<number, TearMode>();
  private rng = 0x9e3779b9;
  private off = false;

  constructor(options: NorImageOptions = {}) {
    this.sectorSize = options.sectorSize ?? 4096;
    if (!(this.sectorSize > 0 && Number.isInteger(this.sectorSize))) {
      throw new RangeError(`NOR sector size must be a positive integer, got ${this.sectorSize}`);
    }
    if (options.bytes) {
      this.bytes = options.bytes;
    } else {
      const size = options.size ?? 64 * this.sectorSize;
      this.bytes = new Uint8Array(size).fill(0xff);
    }
    this.size = this.bytes.length;
    if (this.size === 0 || this.size % this.sectorSize !== 0) {
      throw new RangeError(`NOR size ${this.size} is not a whole number of ${this.sectorSize}-byte sectors`);
    }
    this.sectorErases = new Uint32Array(this.size / this.sectorSize);
    this.onChange = options.onChange;
  }

  /** True after a power cut until `reboot()`. */
  get poweredOff(): boolean {
    return this.off;
  }

  armPowerCut(plan: PowerCutPlan): void {
    this.plan = plan;
    this.rng = (plan.seed ?? 0) >>> 0 || 0x9e3779b9;
  }

  disarm(): void {
    this.plan = undefined;
    // Stryker disable next-line ArrayDeclaration: a non-plan element never matches an operation index (its atOperation is undefined)
    this.faults = [];
  }

  /** The operation `plan.atOperation` tears its target as `plan.tear` says, then throws FlashFaultError; power stays on. Several may be armed. */
  armFault(plan: PowerCutPlan): void {
    this.faults.push(plan);
    if (plan.seed !== undefined) this.rng = plan.seed >>> 0 || 0x9e3779b9;
  }

  /** Every later program or erase touching sector `index` tears as `tear` says and throws FlashFaultError. */
  failSector(index: number, tear: TearMode = "none"): void {
    this.failing.set(index, tear);
  }

  healSector(index: number): void {
    this.failing.delete(index);
  }

  /** Power back on: operations work again; the image keeps whatever the cut left. */
  reboot(): void {
    this.off = false;
    this.plan = undefined;
  }

  resetCounters(): void {
    this.programOps = 0;
    this.bytesProgrammed = 0;
    this.erases = 0;
    this.readOps = 0;
    this.bytesRead = 0;
    this.sectorErases.fill(0);
  }

  read(offset: number, target: Uint8Array): void {
    this.checkPower();
    this.checkRange(offset, target.length, "read");
    target.set(this.bytes.subarray(offset, offset + target.length));
    this.readOps++;
    this.bytesRead += target.length;
  }

  write(offset: number, data: Uint8Array): void {
    this.checkPower();
    this.checkRange(offset, data.length, "write");
    const image = this.bytes;
    // Stryker disable next-line EqualityOperator: `i <= data.length` reads data[length], undefined, whose bits are all clear
    for (let i = 0; i < data.length; i++) {
      if ((data[i]! & ~image[offset + i]!) !== 0) {
        throw new Error(
          `NOR write would set bits at offset ${offset + i} (0x${image[offset + i]!.toString(16)} → 0x${data[i]!.toString(16)}): erase first`,
        );
      }
    }
    const index = this.operations;
    if (this.isTorn()) {
      this.tearWrite(offset, data, this.plan!.tear);
      this.cut(`a ${data.length}-byte program at ${offset}`);
    }
    const fault = this.faultFor(index, offset, data.length);
    if (fault !== undefined) {
      this.tearWrite(offset, data, fault);
      throw new FlashFaultError(`program of ${data.length} bytes at ${offset} failed`);
    }
    for (let i = 0; i < data.length; i++) image[offset + i] = image[offset + i]! & data[i]!;
    this.programOps++;
    this.bytesProgrammed += data.length;
    this.onChange?.(offset, data.length);
  }

  eraseSector(index: number): void {
    this.checkPower();
    if (!Number.isInteger(index) || index < 0 || index >= this.sectorErases.length) {
      throw new RangeError(`NOR erase of sector ${index} outside 0..${this.sectorErases.length - 1}`);
    }
    const start = index * this.sectorSize;
    const op = this.operations;
    if (this.isTorn()) {
      this.tearErase(start, this.plan!.tear);
      this.cut(`the erase of sector ${index}`);
    }
    const fault = this.faultFor(op, start, this.sectorSize);
    if (fault !== undefined) {
      this.tearErase(start, fault);
      throw new FlashFaultError(`erase of sector ${index} failed`);
    }
    this.bytes.fill(0xff, start, start + this.sectorSize);
    this.erases++;
    this.sectorErases[index]!++;
    this.onChange?.(start, this.sectorSize);
  }

  private checkPower(): void {
    if (this.off) throw new PowerCutError("NOR flash is powered off (power cut); reboot first");
  }

  private checkRange(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new RangeError(`NOR ${what} of ${length} bytes at ${offset} outside 0..${this.size}`);
    }
  }

  /** Counts one mutating operation; true when it is the one the armed plan tears. */
  private isTorn(): boolean {
    const index = this.operations++;
    return this.plan !== undefined && index === this.plan.atOperation;
  }

  /** The tear of a driver fault hitting operation `index` on [offset, offset + length), if any. */
  private faultFor(index: number, offset: number, length: number): TearMode | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const plan = this.faults[i]!;
      if (plan.atOperation === index) {
        this.faults.splice(i, 1);
        return plan.tear;
      }
    }
    const first = Math.floor(offset / this.sectorSize);
    const last = Math.floor((offset + Math.max(1, length) - 1) / this.sectorSize);
    for (let s = first; s <= last; s++) {
      const tear = this.failing.get(s);
      if (tear !== undefined) return tear;
    }
    return undefined;
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  private cut(what: string): never {
    this.off = true;
    this.plan = undefined;
    throw new PowerCutError(`power cut during ${what}`);
  }

  private tearWrite(offset: number, data: Uint8Array, tear: TearMode): void {
    const image = this.bytes;
    if (tear === "prefix") {
      const n = this.random() % (data.length + 1);
      for (let i = 0; i < n; i++) image[offset + i] = image[offset + i]! & data[i]!;
    } else if (tear === "tail") {
      const n = this.random() % (data.length + 1);
      for (let i = data.length - n; i < data.length; i++) image[offset + i] = image[offset + i]! & data[i]!;
    } else if (tear === "bits" || tear === "random") {
      for (let i = 0; i < data.length; i++) {
        image[offset + i] = image[offset + i]! & (data[i]! | (this.random() & 0xff));
      }
    }
    if (tear !== "none") this.onChange?.(offset, data.length);
  }

  private tearErase(start: number, tear: TearMode): void {
    const image = this.bytes;
    const end = start + this.sectorSize;
    if (tear === "prefix") {
      image.fill(0xff, start, start + (this.random() % (this.sectorSize + 1)));
    } else if (tear === "tail") {
      image.fill(0xff, end - (this.random() % (this.sectorSize + 1)), end);
    } else if (tear === "bits") {
      for (let i = start; i < end; i++) image[i] = image[i]! | (this.random() & 0xff);
    } else if (tear === "random") {
      for (let i = start; i < end; i++) image[i] = this.random() & 0xff;
    }
    if (tear !== "none") this.onChange?.(start, this.sectorSize);
  }
}
