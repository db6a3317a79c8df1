/*
 * The "gyro-mpu6050" model: opens the I2C bus through Moddable's ECMA-419
 * `embedded:io/i2c` and hands it to the driver (mpu6050.ts).
 */
import I2C from "embedded:io/i2c";
import type { ModelContext, ModelFactory } from "../../../capture/component";
import { COMPONENT_MOVEMENT_SENSOR } from "../../../capture/methods";
import { type I2cBus, Mpu6050, mpu6050Options } from "./mpu6050";

export const mpu6050: ModelFactory = {
  api: COMPONENT_MOVEMENT_SENSOR,
  create({ attributes }: ModelContext) {
    const options = mpu6050Options(attributes);
    const bus = new I2C({
      data: options.dataPin,
      clock: options.clockPin,
      hz: options.hz,
      address: options.address,
    });
    // ECMA-419 I2C has close(); Moddable's typings leave it out.
    return new Mpu6050(bus as unknown as I2cBus);
  },
};
