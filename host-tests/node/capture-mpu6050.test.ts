// The MPU-6050 driver against an emulated chip (register file, auto-increment reads, 1024-byte FIFO
// with overflow), polled and FIFO-drained through a real Capture with a fake clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Capture } from "../../modules/capture/capture";
import type { ModelFactory } from "../../modules/capture/component";
import { COMPONENT_MOVEMENT_SENSOR } from "../../modules/capture/methods";
import { ModelRegistry } from "../../modules/capture/registry";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { type I2cBus, Mpu6050, mpu6050Options } from "../../modules/platform/esp32/drivers/mpu6050";
import { ProtoWriter } from "../../modules/proto/writer";
import type { FakeClock } from "../support/fake-clock";
import { MemoryStore } from "../support/memory-store";
import { decodeSensorDataFields } from "../support/sensors-decode";
import { CaptureRig, LogLines, machineConfig } from "../support/sensors-rig";

/** Register-level MPU-6050: enough of the datasheet for the driver. */
class EmulatedMpu6050 implements I2cBus {
  readonly registers = new Uint8Array(128);
  fifo: number[] = [];
  pointer = 0;
  closed = false;
  produced = 0;

  constructor(whoAmI = 0x68) {
    this.registers[0x75] = whoAmI;
  }

  write(buffer: Uint8Array): void {
    this.pointer = buffer[0]!;
    if (buffer.length > 1) {
      const value = buffer[1]!;
      if (this.pointer === 0x6a && value & 0x04) {
        this.fifo = [];
        this.registers[0x3a]! &= ~0x10;
      }
      this.registers[this.pointer] = value & ~0x04;
    }
  }

  read(buffer: Uint8Array): unknown {
    if (this.pointer === 0x74) {
      for (let i = 0; i < buffer.length; i++) buffer[i] = this.fifo.shift() ?? 0;
      return buffer;
    }
    if (this.pointer === 0x72) {
      buffer[0] = this.fifo.length >> 8;
      if (buffer.length > 1) buffer[1] = this.fifo.length & 0xff;
      return buffer;
    }
    for (let i = 0; i < buffer.length; i++) buffer[i] = this.registers[this.pointer + i]!;
    if (this.pointer === 0x3a) this.registers[0x3a]! &= ~0x10; // reading INT_STATUS clears it
    return buffer;
  }

  close(): void {
    this.closed = true;
  }

  /** The chip takes sample j: output registers and (when enabled) the FIFO. */
  sample(j: number): void {
    const accel = [j % 20000, -(j % 20000), 16384];
    const gyro = [j % 30000, 131, -(j % 1000)];
    const bytes: number[] = [];
    for (const v of [...accel, ...gyro]) bytes.push((v >> 8) & 0xff, v & 0xff);
    this.registers.set(bytes.slice(0, 6), 0x3b);
    this.registers.set(bytes.slice(6), 0x43);
    if ((this.registers[0x6a]! & 0x40) !== 0 && this.registers[0x23] === 0x78) {
      this.fifo.push(...bytes);
      while (this.fifo.length > 1024) {
        this.fifo.splice(0, 12); // the oldest frame is lost
        this.registers[0x3a]! |= 0x10;
      }
    }
    this.produced++;
  }
}

function registryWith(chip: EmulatedMpu6050): ModelRegistry {
  const model: ModelFactory = { api: COMPONENT_MOVEMENT_SENSOR, create: () => new Mpu6050(chip) };
  return new ModelRegistry().register("gyro-mpu6050", model);
}

test("mpu6050: refuses a chip that does not answer WHO_AM_I, validates attributes", () => {
  const chip = new EmulatedMpu6050(0x00);
  assert.throws(() => new Mpu6050(chip), /WHO_AM_I/);
  assert.ok(chip.closed);
  assert.deepEqual(mpu6050Options({}), { dataPin: 21, clockPin: 22, hz: 400_000, address: 0x68 });
  assert.equal(mpu6050Options({ use_alt_i2c_address: true }).address, 0x69);
  assert.throws(() => mpu6050Options({ data_pin: "21" }), /data_pin/);
  assert.throws(() => mpu6050Options({ i2c_hz: -1 }), /i2c_hz/);
});

test("mpu6050: polled reads convert raw registers to °/s and m/s²", () => {
  const chip = new EmulatedMpu6050();
  const imu = new Mpu6050(chip);
  assert.equal(chip.registers[0x6b], 0x01, "woken, PLL clock");
  chip.sample(262);
  const out = new Float64Array(3);
  imu.angularVelocity(out);
  assert.deepEqual([...out], [262 / 131, 1, -262 / 131]);
  imu.linearAcceleration(out);
  const k = 9.80665 / 16384;
  assert.deepEqual([...out], [262 * k, -262 * k, 16384 * k]);
  imu.close();
  assert.ok(chip.closed);
});

function run(clock: FakeClock, chip: EmulatedMpu6050, ms: number, stallAt?: number, stallMs = 0): void {
  // The chip samples at 500 Hz on its own clock, whatever the CPU does: produce by time.
  const end = clock.monotonic() + ms;
  while (clock.monotonic() < end) {
    clock.advance(1);
    while (chip.produced * 2 <= clock.monotonic() - start) chip.sample(chip.produced);
    if (stallAt !== undefined && clock.monotonic() >= stallAt && stallMs > 0) {
      // The CPU freezes (a flash erase); the chip keeps filling its FIFO.
      for (let t = 0; t < stallMs; t++) {
        clock.stall(1);
        while (chip.produced * 2 <= clock.monotonic() - start) chip.sample(chip.produced);
      }
      stallMs = 0;
    }
  }
}
let start = 0;

test("mpu6050: 500 Hz through the FIFO, two methods, a 100 ms stall loses nothing, a 400 ms one is counted", () => {
  const chip = new EmulatedMpu6050();
  const clock = CaptureRig.validClock();
  const log = new LogLines();
  const store = new MemoryStore();
  const capture = new Capture({ store, clock, timers: clock, log, registry: registryWith(chip) });
  start = clock.monotonic();
  const issues = capture.apply(
    parseMachineConfig(
      machineConfig([
        {
          name: "imu",
          api: COMPONENT_MOVEMENT_SENSOR,
          model: "gyro-mpu6050",
          methods: [
            { method: "AngularVelocity", capture_frequency_hz: 500 },
            { method: "LinearAcceleration", capture_frequency_hz: 500 },
          ],
        },
      ]),
    ),
  );
  assert.deepEqual(issues, []);
  assert.equal(chip.registers[0x19], 1, "sample rate divider: 1 kHz / (1 + 1) = 500 Hz");
  run(clock, chip, 1000, clock.monotonic() + 500, 100);
  const stats = () => Object.fromEntries(capture.stats().map((s) => [s.method, s]));
  let s = stats();
  for (const m of ["AngularVelocity", "LinearAcceleration"]) {
    assert.equal(s[m]!.missedDeadlines, 0, `${m}: a 100 ms stall fits in the 85-frame FIFO`);
    assert.ok(Math.abs(s[m]!.captured - chip.produced) <= 6, `${m}: ${s[m]!.captured} of ${chip.produced}`);
  }
  // The gyro samples arrive complete and in order, evenly stamped 2 ms apart.
  capture.flush();
  const ring = store.ring("rdk:component:movement_sensor/imu/AngularVelocity")!;
  const w = new ProtoWriter(1 << 16);
  for (const record of ring.read(1 << 24)!.records) capture.writeSensorData(record, w, 2);
  const gyro = decodeSensorDataFields(w.finish(), 2);
  gyro.forEach((r, j) => {
    const v = (r.payload.angular_velocity as { x: number }).x;
    assert.equal(v, (j % 30000) / 131, `sample ${j}`);
    if (j > 0) assert.equal(r.requestedUs - gyro[j - 1]!.requestedUs, 2000, `spacing at ${j}`);
  });

  run(clock, chip, 1000, clock.monotonic() + 200, 400);
  s = stats();
  for (const m of ["AngularVelocity", "LinearAcceleration"]) {
    // 400 ms at 500 Hz is 200 samples; the 85 the FIFO held are discarded with it (frames misalign).
    const { missedDeadlines, captured } = s[m]!;
    assert.ok(
      missedDeadlines >= 195 && missedDeadlines <= 215,
      `${m}: overflow counted as ${missedDeadlines}`,
    );
    assert.ok(
      Math.abs(captured + missedDeadlines - chip.produced) <= 6,
      `${m}: ${captured} + ${missedDeadlines} of ${chip.produced}`,
    );
  }
  capture.close();
  assert.ok(chip.closed);
});
