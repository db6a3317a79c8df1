/*
 * InvenSense MPU-6050 accelerometer + gyroscope on I2C (Viam model
 * "gyro-mpu6050"), through Moddable's ECMA-419 `embedded:io/i2c`.
 *
 * Two ways to capture:
 * - polled: AngularVelocity / LinearAcceleration read the output registers on
 *   each deadline (up to the sampler's 1 kHz timer);
 * - FIFO (the collector uses it whenever the component offers one): the chip
 *   samples on its own clock into its 1024-byte FIFO (85 accel+gyro frames)
 *   and the collector drains it every 10 ms, so sampling continues through
 *   flash-erase stalls of the CPU and rates are exact (1 kHz / (1 + divider)).
 *
 * Units as Viam reports them: angular velocity in degrees/s (±250 °/s range,
 * 131 LSB per °/s), linear acceleration in m/s² (±2 g range, 16384 LSB per g).
 *
 * Attributes: data_pin, clock_pin (default 21, 22), i2c_hz (default 400000),
 * use_alt_i2c_address (AD0 high: 0x69 instead of 0x68). The bus is injected
 * (mpu6050-model.ts opens `embedded:io/i2c`), so host tests run this class
 * against an emulated chip.
 *
 * Nothing on the read paths allocates: register reads go into preallocated
 * buffers (I2C.read(buffer)), frames are decoded with a DataView.
 */
import {
  type Component,
  FIFO_LOST_UNKNOWN,
  type SampleFifo,
  type ValueStep,
  type Vector3,
} from "../../../capture/component";
import { KIND_ANGULAR_VELOCITY, KIND_LINEAR_ACCELERATION } from "../../../capture/methods";

/** The part of ECMA-419 `embedded:io/i2c` this driver uses (injected, so it can run against an emulated chip). */
export interface I2cBus {
  write(buffer: Uint8Array, stop?: boolean): void;
  read(buffer: Uint8Array, stop?: boolean): unknown;
  close?(): void;
}

/** Options the model factory reads from the component's attributes. */
export interface Mpu6050Options {
  dataPin: number;
  clockPin: number;
  hz: number;
  address: number;
}

export const MPU6050_ADDRESS = 0x68;
export const MPU6050_ALT_ADDRESS = 0x69;

/** Validate a gyro-mpu6050 component's attributes. */
export function mpu6050Options(attributes: Record<string, unknown>): Mpu6050Options {
  const pin = (key: string, fallback: number): number => {
    const v = attributes[key] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 39) {
      throw new Error(`attribute ${key} must be a GPIO number`);
    }
    return v;
  };
  const hz = attributes.i2c_hz ?? 400_000;
  if (typeof hz !== "number" || hz <= 0) throw new Error("attribute i2c_hz must be a positive number");
  const alt = attributes.use_alt_i2c_address ?? false;
  if (typeof alt !== "boolean") throw new Error("attribute use_alt_i2c_address must be true or false");
  return {
    dataPin: pin("data_pin", 21),
    clockPin: pin("clock_pin", 22),
    hz,
    address: alt ? MPU6050_ALT_ADDRESS : MPU6050_ADDRESS,
  };
}

const REG_SMPLRT_DIV = 0x19;
const REG_CONFIG = 0x1a;
const REG_GYRO_CONFIG = 0x1b;
const REG_ACCEL_CONFIG = 0x1c;
const REG_FIFO_EN = 0x23;
const REG_INT_STATUS = 0x3a;
const REG_ACCEL_XOUT_H = 0x3b;
const REG_GYRO_XOUT_H = 0x43;
const REG_USER_CTRL = 0x6a;
const REG_PWR_MGMT_1 = 0x6b;
const REG_FIFO_COUNT_H = 0x72;
const REG_FIFO_R_W = 0x74;
const REG_WHO_AM_I = 0x75;

const FIFO_ACCEL_AND_GYRO = 0x78; // XG, YG, ZG, ACCEL
const USER_CTRL_FIFO_ENABLE = 0x40;
const USER_CTRL_FIFO_RESET = 0x04;
const INT_FIFO_OVERFLOW = 0x10;
const FRAME_BYTES = 12; // accel x,y,z then gyro x,y,z, big-endian int16
const FRAMES_PER_READ = 8;
/** Decoded samples kept per method between drains. */
const QUEUE_FRAMES = 128;

const GYRO_LSB_PER_DPS = 131;
const ACCEL_LSB_PER_G = 16384;
const STANDARD_GRAVITY = 9.80665;

/** Samples of one method, decoded from the FIFO, waiting for its collector. */
class SampleQueue {
  readonly values = new Float64Array(QUEUE_FRAMES * 3);
  head = 0;
  count = 0;
  lost = 0;
  /** The chip's FIFO overflowed and was reset since this method last asked. */
  overflowed = false;
  enabled = false;

  push(x: number, y: number, z: number): void {
    if (!this.enabled) return;
    if (this.count === QUEUE_FRAMES) {
      this.head = (this.head + 1) % QUEUE_FRAMES;
      this.count--;
      this.lost++;
    }
    const at = ((this.head + this.count) % QUEUE_FRAMES) * 3;
    this.values[at] = x;
    this.values[at + 1] = y;
    this.values[at + 2] = z;
    this.count++;
  }
}

export class Mpu6050 implements Component, SampleFifo {
  readonly fifo: SampleFifo = this;
  private readonly i2c: I2cBus;
  private readonly register = new Uint8Array(1);
  private readonly write2 = new Uint8Array(2);
  private readonly six = new Uint8Array(6);
  private readonly sixView = new DataView(this.six.buffer);
  private readonly two = new Uint8Array(2);
  private readonly one = new Uint8Array(1);
  private readonly frames = new Uint8Array(FRAME_BYTES * FRAMES_PER_READ);
  private readonly framesView = new DataView(this.frames.buffer);
  private readonly frame = new Uint8Array(FRAME_BYTES);
  private readonly frameView = new DataView(this.frame.buffer);
  private readonly gyro = new SampleQueue();
  private readonly accel = new SampleQueue();
  private rateHz = 0;

  /** The driver's steps (capture stores the int16 counts, not 8-byte doubles: capture/FORMAT.md). */
  private static readonly GYRO_STEP: ValueStep = { divisor: GYRO_LSB_PER_DPS };
  private static readonly ACCEL_STEP: ValueStep = { multiplier: STANDARD_GRAVITY / ACCEL_LSB_PER_G };

  constructor(i2c: I2cBus) {
    this.i2c = i2c;
    if (this.readByte(REG_WHO_AM_I) !== 0x68) {
      this.i2c.close?.();
      throw new Error("no MPU-6050 answered (WHO_AM_I is not 0x68): check wiring and use_alt_i2c_address");
    }
    this.writeByte(REG_PWR_MGMT_1, 0x01); // wake, PLL on the X gyro clock
    this.writeByte(REG_CONFIG, 0x01); // DLPF 184 Hz: gyro output rate 1 kHz
    this.writeByte(REG_GYRO_CONFIG, 0x00); // ±250 °/s
    this.writeByte(REG_ACCEL_CONFIG, 0x00); // ±2 g
  }

  angularVelocity(out: Vector3): void {
    this.readInto(REG_GYRO_XOUT_H, this.six);
    out[0] = this.sixView.getInt16(0) / GYRO_LSB_PER_DPS;
    out[1] = this.sixView.getInt16(2) / GYRO_LSB_PER_DPS;
    out[2] = this.sixView.getInt16(4) / GYRO_LSB_PER_DPS;
  }

  linearAcceleration(out: Vector3): void {
    this.readInto(REG_ACCEL_XOUT_H, this.six);
    const k = STANDARD_GRAVITY / ACCEL_LSB_PER_G;
    out[0] = this.sixView.getInt16(0) * k;
    out[1] = this.sixView.getInt16(2) * k;
    out[2] = this.sixView.getInt16(4) * k;
  }

  valueStep(kind: number): ValueStep | undefined {
    if (kind === KIND_ANGULAR_VELOCITY) return Mpu6050.GYRO_STEP;
    if (kind === KIND_LINEAR_ACCELERATION) return Mpu6050.ACCEL_STEP;
    return undefined;
  }

  // SampleFifo

  supports(kind: number): boolean {
    return kind === KIND_ANGULAR_VELOCITY || kind === KIND_LINEAR_ACCELERATION;
  }

  start(kind: number, hz: number): number {
    this.queue(kind).enabled = true;
    // One sample clock for both methods: the faster request wins; 1 kHz / (1 + divider).
    const want = Math.max(hz, this.rateHz);
    const divider = Math.min(255, Math.max(0, Math.round(1000 / want) - 1));
    this.rateHz = 1000 / (1 + divider);
    this.writeByte(REG_SMPLRT_DIV, divider);
    this.writeByte(REG_FIFO_EN, FIFO_ACCEL_AND_GYRO);
    this.writeByte(REG_USER_CTRL, USER_CTRL_FIFO_RESET);
    this.writeByte(REG_USER_CTRL, USER_CTRL_FIFO_ENABLE);
    this.gyro.count = this.accel.count = 0;
    return this.rateHz;
  }

  drain(kind: number, out: Float64Array, maxSamples: number): number {
    this.pull();
    const q = this.queue(kind);
    const n = q.count < maxSamples ? q.count : maxSamples;
    for (let i = 0; i < n; i++) {
      const at = ((q.head + i) % QUEUE_FRAMES) * 3;
      out[i * 3] = q.values[at]!;
      out[i * 3 + 1] = q.values[at + 1]!;
      out[i * 3 + 2] = q.values[at + 2]!;
    }
    q.head = (q.head + n) % QUEUE_FRAMES;
    q.count -= n;
    return n;
  }

  takeOverflow(kind: number): number {
    const q = this.queue(kind);
    if (q.overflowed) {
      // The chip's FIFO overflowed and was reset: how much was lost shows in time, not here.
      q.overflowed = false;
      q.lost = 0;
      return FIFO_LOST_UNKNOWN;
    }
    const lost = q.lost;
    q.lost = 0;
    return lost;
  }

  close(): void {
    this.writeByte(REG_USER_CTRL, 0);
    this.writeByte(REG_PWR_MGMT_1, 0x40); // sleep
    this.i2c.close?.();
  }

  /** Move every whole frame from the chip's FIFO into the per-method queues. */
  private pull(): void {
    if ((this.readByte(REG_INT_STATUS) & INT_FIFO_OVERFLOW) !== 0) {
      // Frames are no longer aligned after an overflow: start over.
      this.writeByte(REG_USER_CTRL, USER_CTRL_FIFO_RESET | USER_CTRL_FIFO_ENABLE);
      this.gyro.overflowed = this.gyro.enabled;
      this.accel.overflowed = this.accel.enabled;
      return;
    }
    this.readInto(REG_FIFO_COUNT_H, this.two);
    let frames = Math.floor(((this.two[0]! << 8) | this.two[1]!) / FRAME_BYTES);
    while (frames >= FRAMES_PER_READ) {
      this.readInto(REG_FIFO_R_W, this.frames);
      for (let f = 0; f < FRAMES_PER_READ; f++) this.decode(this.framesView, f * FRAME_BYTES);
      frames -= FRAMES_PER_READ;
    }
    while (frames > 0) {
      this.readInto(REG_FIFO_R_W, this.frame);
      this.decode(this.frameView, 0);
      frames--;
    }
  }

  private decode(view: DataView, at: number): void {
    const k = STANDARD_GRAVITY / ACCEL_LSB_PER_G;
    this.accel.push(view.getInt16(at) * k, view.getInt16(at + 2) * k, view.getInt16(at + 4) * k);
    this.gyro.push(
      view.getInt16(at + 6) / GYRO_LSB_PER_DPS,
      view.getInt16(at + 8) / GYRO_LSB_PER_DPS,
      view.getInt16(at + 10) / GYRO_LSB_PER_DPS,
    );
  }

  private queue(kind: number): SampleQueue {
    return kind === KIND_ANGULAR_VELOCITY ? this.gyro : this.accel;
  }

  private readInto(register: number, target: Uint8Array): void {
    this.register[0] = register;
    this.i2c.write(this.register, false); // repeated start: no stop between address and read
    this.i2c.read(target);
  }

  private readByte(register: number): number {
    this.readInto(register, this.one);
    return this.one[0]!;
  }

  private writeByte(register: number, value: number): void {
    this.write2[0] = register;
    this.write2[1] = value;
    this.i2c.write(this.write2);
  }
}
