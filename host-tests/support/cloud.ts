// Shared helpers for tests that need the local cloud on loopback.
import type { MachineConfigJson } from "../../tools/cloud/machine-config";
import { type Cloud, type CloudOptions, startCloud } from "../../tools/cloud/server";

export const TEST_PART_ID = "11111111-2222-3333-4444-555555555555";
export const TEST_PART_SECRET = "test-secret-do-not-log";

export const TEST_MACHINE_CONFIG: MachineConfigJson = {
  components: [
    {
      name: "env",
      api: "rdk:component:sensor",
      model: "capsync:sensor:fake",
      attributes: { pin: 4 },
      service_configs: [
        {
          type: "data_manager",
          attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 2 }] },
        },
      ],
    },
  ],
  services: [
    {
      name: "data_manager-1",
      api: "rdk:service:data_manager",
      model: "rdk:builtin:builtin",
      attributes: { sync_interval_mins: 0.1, tags: ["t1"] },
    },
  ],
};

/** A local cloud on 127.0.0.1:<ephemeral> with one part (TEST_PART_ID / TEST_PART_SECRET). */
export function startTestCloud(options: Partial<CloudOptions> = {}): Promise<Cloud> {
  return startCloud({
    port: 0,
    parts: [{ id: TEST_PART_ID, secret: TEST_PART_SECRET }],
    machineConfig: TEST_MACHINE_CONFIG,
    ...options,
  });
}
