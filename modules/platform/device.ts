/*
 * What main.ts imports. Each platform's manifest maps the module name
 * "modules/platform/device" to its own file (esp32-device.ts, lin-device.ts),
 * so this file is never built into an app: it exists for the type checker,
 * which sees the simulator's entry point.
 */
export { startDevice } from "./lin-device";
