/*
 * The Linux simulator build (`mcconfig -m -p lin`, run in mcsim). The manifest
 * maps the module name "modules/platform/device" to this file for lin, which
 * is why it sits beside device.ts: its relative imports resolve the same way
 * under either name.
 *
 * Flash: two NOR images in files under the simulator's file root (capture
 * ring store and config cache), read and programmed in place through file
 * positions (lin/nor-file.c; never held in the XS heap), so killing mcsim is
 * a power cut and the next start is a reboot. Sensors: the
 * simulated models. Network: the host's, always up; TLS (the ESP32's code:
 * SecureSocket with capsync's verifier) or, to loopback only, plain HTTP to
 * the cloud named in the credentials. Clock: the host's, valid from the start.
 * Credentials: provisioned from `mcconfig … partId=… secret=… appAddress=…`.
 */
import config from "mc/config";
import Time from "time";
import Timer from "timer";
import type { PlatformPorts } from "../app/firmware";
import { SettableWallClock } from "../app/wall-clock";
import { simulatedModels } from "../capture/simulated";
import { startPowered } from "../power/powered-firmware";
import { AlwaysUpLink } from "./lin/always-up-link";
import { ignoreBrokenPipes } from "./lin/broken-pipe";
import { LinFlash } from "./lin/flash";
import { startMemoryTrace } from "./lin/memory-trace";
import { LinSleepPort } from "./lin/sleep-port";
import { cloudStreamOpener } from "./moddable/cloud-stream";
import { useNativeCrc32 } from "./moddable/crc32/native-crc";
import { moddableTimers } from "./moddable/moddable-timers";
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
  // The memory build only (host-tests/sim/memory.ts): live slots and chunk bytes sampled and traced.
  if (config.memoryProbe) startMemoryTrace(log);
  // A cloud that vanishes mid-request must fail a write (EPIPE), not end mcsim (SIGPIPE): broken-pipe.c.
  if (ignoreBrokenPipes())
    log.info("sim: SIGPIPE ignored: a vanished peer fails the write instead of ending mcsim");
  const start = Time.ticks;
  const clock = new SettableWallClock(() => Time.delta(start));
  clock.set(Date.now(), "host clock");
  const root = String(config.simRoot ?? config.file?.root ?? "/tmp/");
  const captureKb = Number(config.captureFlashKb ?? 1024);
  const flash = new LinFlash({ path: `${root}capsync-capture.nor`, size: captureKb * 1024 });
  const configFlash = new LinFlash({ path: `${root}capsync-config.nor`, size: 64 * 1024 });
  log.info(`sim: flash images in ${root} (capture ${captureKb} KB, config 64 KB)`);
  // Battery mode with deep sleep emulated in files (tools/sim/sleep-cycles.ts restarts the app).
  const startFirmware = (ports: PlatformPorts) => startPowered(ports, new LinSleepPort(root));
  startFirmware({
    kv: new PreferenceStore(),
    clock,
    timers: moddableTimers,
    log,
    flash,
    configFlash,
    registry: simulatedModels(),
    openLink: () => new AlwaysUpLink(),
    // TLS exactly as on the ESP32; SIGPIPE ignored again before each connection (the SDK restores the
    // default when its debugger (re)connects).
    openStream: cloudStreamOpener(config.cloudCa, log, ignoreBrokenPipes),
    buildConfig: config as Record<string, unknown>,
  });
}
