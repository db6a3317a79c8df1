/*
 * Runs inside the XS engine (node scripts/xs-run.mjs bench/xs/sync-encode.ts):
 * the device-side cost of one upload request — read the records after the sync
 * point from the NOR store, transcode the blocks to SensorData, assemble the
 * DataCaptureUploadRequest — with a sender that acknowledges at once, so only
 * device work is timed. Sends one JSON message with the figures.
 */

import { FakeClock } from "../../host-tests/support/fake-clock";
import { simulatedModels } from "../../modules/capture/simulated";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { DataManager } from "../../modules/manager/data-manager";
import { silentLogger } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const performance: { now(): number };

function component(name: string, api: string, method: string, hz: number) {
  return {
    name,
    api,
    model: "fake",
    service_configs: [
      {
        type: "data_manager",
        attributes: { capture_methods: [{ method, capture_frequency_hz: hz, flash_sectors: 24 }] },
      },
    ],
  };
}

async function main(): Promise<void> {
  const clock = new FakeClock();
  clock.setWall(Date.UTC(2025, 0, 1));
  let requests = 0;
  let requestBytes = 0;
  const manager = new DataManager({
    flash: new NorImage({ size: 512 * 1024 }),
    clock,
    timers: clock,
    log: silentLogger,
    registry: simulatedModels(),
    partId: "bench",
    sender: {
      async send(body) {
        requests++;
        requestBytes += body.length;
      },
    },
    settings: parseMachineConfig({
      services: [{ name: "dm", api: "rdk:service:data_manager", attributes: { sync_disabled: true } }],
      components: [
        component("env", "rdk:component:sensor", "Readings", 100),
        component("imu", "rdk:component:movement_sensor", "LinearAcceleration", 200),
        component("wheel", "rdk:component:encoder", "TicksCount", 100),
      ],
    }),
  });
  for (let i = 0; i < 600; i++) clock.advance(100); // one simulated minute
  manager.capture.flush();
  const readings = manager.status().collectors.reduce((n, c) => n + c.inFlash, 0);
  const started = performance.now();
  const result = await manager.syncNow();
  const ms = performance.now() - started;
  if (!result.ok) throw new Error("upload failed");
  const synced = manager.status().collectors.reduce((n, c) => n + c.synced, 0);
  if (synced !== readings) throw new Error(`synced ${synced} of ${readings}`);
  await manager.close();
  const figures = {
    xsReadings: readings,
    xsRequests: requests,
    xsRequestBytes: requestBytes,
    xsMsPerRequest: ms / requests,
    xsUsPerReading: (1000 * ms) / readings,
  };
  issueCommand(new TextEncoder().encode(JSON.stringify(figures)).buffer as ArrayBuffer);
}

(globalThis as Record<string, unknown>).__main = main;
main().catch((error) => {
  issueCommand(
    new TextEncoder().encode(JSON.stringify({ error: String(error?.stack ?? error) })).buffer as ArrayBuffer,
  );
});
