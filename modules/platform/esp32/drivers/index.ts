/*
 * The ESP32 build's component models, for Capture's registry. The platform
 * injects them (main.ts); the core never imports drivers.
 *
 *   const registry = new ModelRegistry().include(simulatedModels()).include(esp32Models());
 */
import { ModelRegistry } from "../../../capture/registry";
import { esp32Board } from "./esp32-board-model";
import { mpu6050 } from "./mpu6050-model";

export function esp32Models(): ModelRegistry {
  return new ModelRegistry()
    .register("esp32", esp32Board)
    .register("rdk:builtin:esp32", esp32Board)
    .register("gyro-mpu6050", mpu6050)
    .register("rdk:builtin:gyro-mpu6050", mpu6050);
}
