/*
 * Simulator lane, battery mode (docs/power.md): the real app on Moddable,
 * with deep sleep emulated (tools/sim/sleep-cycles.ts). From a power-on, the
 * cloud switches the machine to battery mode; then capture wakes without the
 * network and sync wakes follow each other; every reading a wake reported
 * taking must arrive in the local cloud exactly once, stamped inside that
 * wake's span of the emulated clock.
 */
import type { Cloud } from "../../tools/cloud/index";
import type { SdkPaths } from "../../tools/sim/simulator";
import { runSleepCycles, type SleepCycle } from "../../tools/sim/sleep-cycles";

export function batteryMachineConfig(): Record<string, unknown> {
  return {
    components: [
      {
        name: "soil",
        api: "rdk:component:sensor",
        model: "rdk:builtin:fake",
        attributes: {},
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 0.05 }] },
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
          power_mode: "deep_sleep",
          sync_interval_mins: 1,
          deep_sleep_action_timeout_seconds: 30,
        },
      },
    ],
  };
}

export interface BatteryCheckOptions {
  sdk: SdkPaths;
  so: string;
  cloud: Cloud;
  simRoot: string;
  check: (name: string, body: () => Promise<void>) => Promise<void>;
  onLine?: (line: string) => void;
}

export async function checkBatteryMode(o: BatteryCheckOptions): Promise<void> {
  await o.check(
    "battery mode: emulated deep-sleep cycles deliver every reading once, with its time",
    async () => {
      o.cloud.setConfig(batteryMachineConfig() as never);
      const cycles = await runSleepCycles({
        sdk: o.sdk,
        so: o.so,
        simRoot: o.simRoot,
        wakes: 40,
        // Three sync wakes after the first start, ending on one.
        until: (c) => c.filter((x) => x.kind === "sync").length >= 4 && c[c.length - 1]!.kind === "sync",
        onLine: o.onLine,
      });
      const syncs = cycles.filter((c) => c.kind === "sync").length;
      const captures = cycles.filter((c) => c.kind === "capture").length;
      if (syncs < 3 || captures < 4) throw new Error(`wakes: ${describe(cycles)}`);
      if (cycles.slice(1).some((c) => c.kind === "sync" && c.cause !== "deep-sleep"))
        throw new Error("a sync wake was not a deep-sleep wake");
      const rows = o.cloud
        .readings({ componentName: "soil", methodName: "Readings" })
        .map((r) => r.timeRequestedMs ?? Number.NaN);
      if (new Set(rows).size !== rows.length)
        throw new Error(`duplicate readings in the cloud (${rows.length} rows)`);
      // Every wake before the last one: its readings are in the cloud, inside its span (±1 s).
      const last = cycles[cycles.length - 1]!;
      let expected = 0;
      for (const c of cycles.slice(0, -1)) {
        const inside = rows.filter((t) => t >= c.startMs - 1000 && t <= c.endMs + 1000).length;
        if (inside !== c.taken)
          throw new Error(
            `a ${c.kind} wake took ${c.taken} reading(s), the cloud holds ${inside} from its span`,
          );
        expected += c.taken;
      }
      // The last sync wake uploaded what it adopted; the readings it took at its end wait in RTC memory.
      const uploadedLast = rows.filter((t) => t >= last.startMs - 1000).length;
      if (rows.length !== expected + uploadedLast || uploadedLast > last.taken)
        throw new Error(
          `the cloud holds ${rows.length} readings; the wakes took ${expected} (+${last.taken} in the last)`,
        );
      if (expected < 5) throw new Error(`only ${expected} readings`);
    },
  );
}

function describe(cycles: SleepCycle[]): string {
  return cycles.map((c) => `${c.kind[0]}${c.taken}`).join(" ");
}
