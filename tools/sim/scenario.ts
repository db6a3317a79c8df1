/*
 * The simulator scenario shared by the lane and `npm run sim`: a local cloud
 * on an ephemeral loopback port serving a machine config with three
 * collectors, and the capsync app built with that cloud's address and a
 * part's credentials.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MachineConfigJson } from "../cloud/index";
import { type Cloud, startCloud } from "../cloud/index";

export const SIM_PART_ID = "5e1f0c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b";
export const SIM_SECRET = "simulator-secret";

/** Collectors the scenario configures: every one must reach the cloud. */
export const SIM_COLLECTORS = [
  { component: "env", method: "Readings" },
  { component: "imu", method: "AngularVelocity" },
  { component: "imu", method: "LinearAcceleration" },
];

export function simMachineConfig(imuHz = 10): MachineConfigJson {
  return {
    components: [
      {
        name: "env",
        api: "rdk:component:sensor",
        model: "rdk:builtin:fake",
        attributes: {},
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 2 }] },
          },
        ],
      },
      {
        name: "imu",
        api: "rdk:component:movement_sensor",
        model: "rdk:builtin:fake",
        attributes: {},
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: [
                { method: "AngularVelocity", capture_frequency_hz: imuHz },
                { method: "LinearAcceleration", capture_frequency_hz: imuHz },
              ],
            },
          },
        ],
      },
    ],
    services: [
      {
        name: "data_manager-1",
        api: "rdk:service:data_manager",
        model: "rdk:builtin:builtin",
        attributes: {
          sync_interval_mins: 0.05,
          flush_interval_secs: 1,
          config_poll_interval_mins: 0.1,
          tags: ["simulator"],
        },
      },
    ],
  } as MachineConfigJson;
}

export interface Scenario {
  cloud: Cloud;
  /** Directory for the build and the simulator's flash images. */
  workDir: string;
  /** mcconfig config values: the build-time provisioning. */
  buildConfig: Record<string, string>;
  close(): Promise<void>;
}

export async function startScenario(workDir?: string): Promise<Scenario> {
  const dir = workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "capsync-sim-"));
  const simRoot = path.join(dir, "flash");
  fs.mkdirSync(simRoot, { recursive: true });
  const cloud = await startCloud({
    port: 0,
    dbPath: path.join(dir, "cloud.db"),
    parts: [{ id: SIM_PART_ID, secret: SIM_SECRET }],
    machineConfig: simMachineConfig(),
  });
  return {
    cloud,
    workDir: dir,
    buildConfig: {
      partId: SIM_PART_ID,
      secret: SIM_SECRET,
      appAddress: cloud.url,
      simRoot: `${simRoot}/`,
    },
    close: () => cloud.close(),
  };
}
