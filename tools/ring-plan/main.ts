/*
 * Prints the ring sizes a machine config gets on a fresh capture partition
 * (the rule in modules/capture/ring-sizing.ts), each ring's projected
 * lifetime at 100 000 erase cycles and how long it buffers while offline.
 *
 *   node --import tsx tools/ring-plan/main.ts [machine-config.json] [partition KB …]
 *
 * Defaults: examples/machine-config.json on 1024 (desktop demo), 2048 (ESP32
 * DevKitC 4 MB) and 6144 KB (ESP32-S3 DevKitC 8 MB).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { estimatedFlashBytesPerReading, planRings, type RingDemand } from "../../modules/capture/ring-sizing";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { describeIssue } from "../../modules/config/settings";
import { LAYOUT_SLOTS } from "../../modules/storage/layout-record";
import { SECTOR_HEADER_BYTES } from "../../modules/storage/ring-format";

const ERASE_CYCLES = 100_000;
const SECTOR = 4096;
const DAY_S = 86_400;

const args = process.argv.slice(2);
const file = args[0] ?? path.resolve(import.meta.dirname, "../../examples/machine-config.json");
const partitionsKb = args.length > 1 ? args.slice(1).map(Number) : [1024, 2048, 6144];
if (partitionsKb.some((kb) => !Number.isFinite(kb) || kb * 1024 < (LAYOUT_SLOTS + 2) * SECTOR)) {
  console.error("usage: ring-plan [machine-config.json] [partition KB ≥ 16 …]");
  process.exit(2);
}

const settings = parseMachineConfig(JSON.parse(fs.readFileSync(file, "utf8")));
for (const issue of settings.issues) console.error(describeIssue(issue));
const demands: RingDemand[] = settings.collectors.map((s) => ({
  key: s.key,
  sectors: s.flashSectors,
  auto: s.autoSize,
  bytesPerSecond: s.frequencyHz * estimatedFlashBytesPerReading(s.kind),
}));
const totalRate = demands.reduce((sum, d) => sum + d.bytesPerSecond, 0);

const days = (seconds: number) => (seconds / DAY_S).toFixed(0);
const duration = (seconds: number) =>
  seconds < 120
    ? `${seconds.toFixed(1)} s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(1)} min`
      : `${(seconds / 3600).toFixed(1)} h`;

console.log(`${path.relative(process.cwd(), file)}: ${totalRate.toFixed(0)} B/s of flash in all (estimate)`);
for (const kb of partitionsKb) {
  const sectors = Math.floor((kb * 1024) / SECTOR);
  const plan = planRings(demands, new Map(), 0, {
    sectorSize: SECTOR,
    ringSectors: sectors - LAYOUT_SLOTS,
    rings: [],
  });
  const used = plan.layout.reduce((sum, r) => sum + r.sectors, 0);
  const partitionLife = (kb * 1024 * ERASE_CYCLES) / totalRate;
  console.log(
    `\n${kb} KB partition (${sectors} sectors): rings take ${used} (${((100 * used) / sectors).toFixed(0)} %); whole partition ≈ ${days(partitionLife)} days`,
  );
  if (plan.warning) console.log(`  warning: ${plan.warning}`);
  console.log(
    `  ${"ring".padEnd(56)} ${"size".padStart(6)} ${"B/s".padStart(7)} ${"lifetime".padStart(10)} ${"buffers".padStart(9)}`,
  );
  plan.layout.forEach((r, i) => {
    const rate = demands[i]!.bytesPerSecond;
    const bytes = r.sectors * SECTOR;
    const buffer = ((r.sectors - 1) * (SECTOR - SECTOR_HEADER_BYTES)) / rate;
    const how = demands[i]!.auto ? "" : " (set)";
    console.log(
      `  ${r.key.padEnd(56)} ${String(r.sectors).padStart(6)} ${rate.toFixed(0).padStart(7)} ${`${days((bytes * ERASE_CYCLES) / rate)} d`.padStart(10)} ${duration(buffer).padStart(9)}${how}`,
    );
  });
}
