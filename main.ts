/*
 * capsync's Moddable entry point. Everything platform-specific happens in the
 * module the manifest maps to "modules/platform/device" for the target
 * (ESP32 board or the Linux simulator); the boot sequence itself lives in
 * modules/app/ and never blocks: capture starts before any network.
 */
import { startDevice } from "./modules/platform/device";

startDevice();
