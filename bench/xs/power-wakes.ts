// XS entry for the power bench (bench/xs/power-worker.ts bundles it into an
// xsnap worker): battery-mode wakes of a simulated device on fake ports, one
// `__powerWake()` per evaluate so the worker's meter gives each wake's
// computrons. Each wake reports its kind and its flash and upload counts.
import { BatteryDevice, batteryConfig } from "../../host-tests/support/power-rig";

declare const issueCommand: (bytes: ArrayBuffer) => ArrayBuffer;

let device: BatteryDevice | undefined;
let requests = 0;
let uploadBytes = 0;

function send(message: unknown): void {
  issueCommand(new TextEncoder().encode(JSON.stringify(message)).buffer as ArrayBuffer);
}

(globalThis as Record<string, unknown>).__powerSetup = (hz: number, syncMins: number) => {
  device = new BatteryDevice(batteryConfig([{ name: "probe", hz }], { sync_interval_mins: syncMins }));
  // Device work only: the cloud stores nothing (the rig's decoding is the test's, not the device's).
  device.cloud.send = async (body: Uint8Array) => {
    requests++;
    uploadBytes += body.length;
  };
  device.world.readCostMs = 5;
};

(globalThis as Record<string, unknown>).__powerWake = () => {
  const d = device!;
  const before = {
    programs: d.flash.programOps,
    bytes: d.flash.bytesProgrammed,
    erases: d.flash.erases,
    requests,
    uploadBytes,
  };
  return d.wake().then((o) => {
    d.sleep(o.sleepMs);
    send({
      kind: o.kind,
      sleepMs: o.sleepMs,
      programs: d.flash.programOps - before.programs,
      programBytes: d.flash.bytesProgrammed - before.bytes,
      erases: d.flash.erases - before.erases,
      requests: requests - before.requests,
      uploadBytes: uploadBytes - before.uploadBytes,
      rtcMs: d.port.now,
    });
  });
};
