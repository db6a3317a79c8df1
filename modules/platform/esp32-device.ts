/*
 * The ESP32 build (`mcconfig -m -p esp32` or `-p esp32/esp32s3`). The manifest
 * maps the module name "modules/platform/device" to this file for esp32, which
 * is why it sits beside device.ts: its relative imports resolve the same way
 * under either name.
 *
 * Flash: the `capture` and `config` partitions of boards/<board>/partitions.csv.
 * NVS: credentials and WiFi. WiFi: managed here (not Moddable's
 * setup/network, which would block main until connected). Clock: SNTP before
 * the first TLS handshake (certificate dates), plus `Time.set` so the system
 * clock agrees. Cloud: one kept-alive TLS connection via SecureSocket.
 */
import config from "mc/config";
import Time from "time";
import Timer from "timer";
import { AccessPointMemory } from "../app/access-point-memory";
import type { PlatformPorts } from "../app/firmware";
import { SettableWallClock } from "../app/wall-clock";
import { ModelRegistry } from "../capture/registry";
import { simulatedModels } from "../capture/simulated";
import { startPowered } from "../power/powered-firmware";
import { esp32Models } from "./esp32/drivers/index";
import { Esp32Flash } from "./esp32/flash";
import { Esp32SleepPort } from "./esp32/sleep-port";
import { SntpTimeSync } from "./esp32/sntp-time";
import { WifiLink } from "./esp32/wifi-link";
import { cloudStreamOpener } from "./moddable/cloud-stream";
import { useNativeCrc32 } from "./moddable/crc32/native-crc";
import { steadyModdableTimers } from "./moddable/moddable-timers";
import { PreferenceStore } from "./moddable/preference-store";
import { traceLogger } from "./moddable/trace-logger";

export function startDevice(): void {
  // Run from a timer callback, not from main: the boot's heaviest work (reopening
  // the store, starting capture from the cached config) then starts on a shallow
  // XS stack, which is what the 1024-slot stack budget is measured against.
  Timer.set(startNow, 0);
}

function startNow(): void {
  const log = traceLogger();
  // The store's CRC-32 in native code (the ROM's on an ESP32), after a check against the JavaScript one.
  useNativeCrc32(log);
  const start = Time.ticks;
  const clock = new SettableWallClock(
    () => Time.delta(start),
    (epochMs) => Time.set(Math.floor(epochMs / 1000)),
  );
  let flash: Esp32Flash;
  let configFlash: Esp32Flash | null = null;
  try {
    flash = new Esp32Flash(String(config.captureFlashPartition ?? "capture"));
  } catch (error) {
    log.error(
      `esp32: no "capture" partition (${(error as Error).message}); was the board's partitions.csv flashed? See boards/README.md`,
    );
    return;
  }
  try {
    configFlash = new Esp32Flash(String(config.configFlashPartition ?? "config"));
  } catch (error) {
    log.warn(
      `esp32: no "config" partition (${(error as Error).message}); the last good config is not kept across reboots`,
    );
  }
  // Battery mode (docs/power.md) decides at each start: a capture wake, or the firmware.
  const startFirmware = (ports: PlatformPorts) => startPowered(ports, new Esp32SleepPort());
  const kv = new PreferenceStore();
  startFirmware({
    kv,
    clock,
    timers: steadyModdableTimers,
    log,
    flash,
    configFlash,
    // Real drivers (ADC/GPIO board, MPU-6050) and the simulated models, which run on any board.
    registry: new ModelRegistry().include(simulatedModels()).include(esp32Models()),
    // The last access point is remembered in NVS: every sync wake of battery mode associates without a scan.
    openLink: (wifi) => (wifi ? new WifiLink(wifi, new AccessPointMemory(kv, log, wifi.ssid)) : null),
    openStream: cloudStreamOpener(config.cloudCa, log),
    timeSync: new SntpTimeSync(String(config.sntp ?? "pool.ntp.org")),
    cloudNeedsClock: true,
    buildConfig: config as Record<string, unknown>,
  });
}
