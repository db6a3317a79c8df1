/*
 * Each ESP32 board in manifest.json gets the flash size its partition table
 * needs. ESP-IDF rejects a partition table that runs past the configured
 * flash; Moddable's esp32s3 defaults select 4 MB, the S3 board's table runs
 * to 8 MB. The values are read from the manifest (build.PARTITIONS_FILE and
 * build.SDKCONFIGPATH), merged the way mcconfig merges an application's
 * sdkconfig.defaults over the SDK's (an entry replaces the base's line of the
 * same name, "n" becomes empty, a new name is appended), and compared with
 * partitions.csv. With $MODDABLE set the SDK's own base file is used too.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")) as {
  platforms: Record<string, { build?: Record<string, string> }>;
};

const SIZES = ["1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"];

/** "0x1E0000", "64K", "2M" or decimal → bytes. */
function sizeOf(text: string): number {
  const t = text.trim();
  const m = /^(0x[0-9a-f]+|\d+)([km]?)$/i.exec(t);
  if (!m) throw new Error(`unreadable size "${text}"`);
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === "k" ? n * 1024 : m[2]?.toLowerCase() === "m" ? n * 1024 * 1024 : n;
}

/** The highest byte any partition reaches. */
export function partitionTableEnd(csv: string): number {
  let end = 0;
  for (const line of csv.split("\n")) {
    const fields = line.replace(/#.*/, "").split(",");
    if (fields.length < 5 || fields[0]!.trim() === "") continue;
    end = Math.max(end, sizeOf(fields[3]!) + sizeOf(fields[4]!));
  }
  return end;
}

/** mcconfig's merge of an application's sdkconfig.defaults over the SDK's base file. */
export function mergeSdkconfig(base: string, fragment: string): string {
  let merged = base;
  let appended = false;
  for (const option of fragment.split(/[\r\n]+/)) {
    if (option.length === 0 || option.startsWith("#")) continue;
    const [name, rawValue] = option.split("=") as [string, string];
    let value = rawValue;
    if (merged.includes(`${name}=`)) {
      if (value === "n") value = "";
      merged = merged.replace(new RegExp(`${name}=.*`), `${name}=${value}`);
    } else {
      if (!appended) merged += "\n";
      appended = true;
      merged += `${name}=${value}\n`;
    }
  }
  return merged;
}

/** The flash size a merged sdkconfig selects: exactly one CONFIG_ESPTOOLPY_FLASHSIZE_<n>MB=y. */
export function selectedFlashBytes(sdkconfig: string): number {
  const chosen = SIZES.filter((s) =>
    new RegExp(`^CONFIG_ESPTOOLPY_FLASHSIZE_${s}=y\\s*$`, "m").test(sdkconfig),
  );
  if (chosen.length !== 1)
    throw new Error(`expected one flash size selected, found ${chosen.join(", ") || "none"}`);
  return Number.parseInt(chosen[0]!, 10) * 1024 * 1024;
}

// Moddable's esp32 and esp32s3 sdkconfig.defaults both select 4 MB (the part this test needs).
const MODDABLE_DEFAULT_BASE = "CONFIG_ESPTOOLPY_FLASHMODE_QIO=y\nCONFIG_ESPTOOLPY_FLASHSIZE_4MB=y\n";

function sdkBase(platform: string): { text: string; from: string } {
  const moddable = process.env.MODDABLE;
  const project = platform === "esp32" ? "xsProj-esp32" : `xsProj-${platform.split("/")[1]}`;
  const file = moddable ? path.join(moddable, "build/devices/esp32", project, "sdkconfig.defaults") : "";
  if (file && fs.existsSync(file)) return { text: fs.readFileSync(file, "utf8"), from: file };
  return { text: MODDABLE_DEFAULT_BASE, from: "Moddable's default (4 MB)" };
}

const boards = Object.entries(manifest.platforms).filter(([name]) => name.startsWith("esp32"));

describe("board sdkconfig: the configured flash holds the partition table", () => {
  it("every esp32 platform names a partition table and an sdkconfig fragment", () => {
    assert.ok(boards.length >= 2, "expected the esp32 and esp32/esp32s3 platforms");
    for (const [name, platform] of boards) {
      assert.ok(platform.build?.PARTITIONS_FILE, `${name}: build.PARTITIONS_FILE`);
      assert.ok(platform.build?.SDKCONFIGPATH, `${name}: build.SDKCONFIGPATH`);
    }
  });

  for (const [name, platform] of boards) {
    it(`${name}: merged flash size ≥ the end of ${platform.build?.PARTITIONS_FILE}`, () => {
      const csv = fs.readFileSync(path.join(root, platform.build!.PARTITIONS_FILE!), "utf8");
      const fragmentFile = path.join(root, platform.build!.SDKCONFIGPATH!, "sdkconfig.defaults");
      const fragment = fs.readFileSync(fragmentFile, "utf8");
      const base = sdkBase(name);
      const merged = mergeSdkconfig(base.text, fragment);
      const flash = selectedFlashBytes(merged);
      const end = partitionTableEnd(csv);
      assert.ok(
        end <= flash,
        `${name}: partitions reach ${end / 1048576} MB but the sdkconfig (over ${base.from}) selects ${flash / 1048576} MB`,
      );
      // The table should use the board's flash: a 4 MB setting on an 8 MB board wastes half of it.
      assert.ok(end > flash / 2, `${name}: partitions use only ${end} of ${flash} bytes`);
      assert.match(merged, /^CONFIG_PARTITION_TABLE_CUSTOM=y/m);
    });
  }

  it("the checks catch a board whose flash setting is too small", () => {
    const merged = mergeSdkconfig(MODDABLE_DEFAULT_BASE, "CONFIG_PARTITION_TABLE_CUSTOM=y\n");
    assert.equal(selectedFlashBytes(merged), 4 * 1048576);
    assert.equal(partitionTableEnd("capture, data, 0x40, 0x200000, 0x600000\n"), 8 * 1048576);
    // Selecting 8 MB without clearing Moddable's 4 MB leaves two sizes selected.
    assert.throws(() =>
      selectedFlashBytes(mergeSdkconfig(MODDABLE_DEFAULT_BASE, "CONFIG_ESPTOOLPY_FLASHSIZE_8MB=y")),
    );
  });
});

describe("board sdkconfig: battery-mode boot and association settings (docs/power.md)", () => {
  for (const [name, platform] of boards) {
    it(`${name}: fast deep-sleep boot, restored DHCP lease, no ARP probe`, () => {
      const fragmentFile = path.join(root, platform.build!.SDKCONFIGPATH!, "sdkconfig.defaults");
      const base = sdkBase(name);
      const merged = mergeSdkconfig(base.text, fs.readFileSync(fragmentFile, "utf8"));
      assert.match(
        merged,
        /^CONFIG_BOOTLOADER_SKIP_VALIDATE_IN_DEEP_SLEEP=y$/m,
        `${name} (over ${base.from})`,
      );
      assert.match(merged, /^CONFIG_LWIP_DHCP_RESTORE_LAST_IP=y$/m, `${name} (over ${base.from})`);
      assert.doesNotMatch(merged, /^CONFIG_LWIP_DHCP_DOES_ARP_CHECK=y/m, `${name} (over ${base.from})`);
    });
  }

  it("the check sees a base that turns the ARP probe on when the fragment does not turn it off", () => {
    const base = "CONFIG_LWIP_DHCP_DOES_ARP_CHECK=y\n";
    assert.match(
      mergeSdkconfig(base, "CONFIG_LWIP_DHCP_RESTORE_LAST_IP=y"),
      /^CONFIG_LWIP_DHCP_DOES_ARP_CHECK=y/m,
    );
    assert.doesNotMatch(
      mergeSdkconfig(base, "CONFIG_LWIP_DHCP_DOES_ARP_CHECK=n"),
      /^CONFIG_LWIP_DHCP_DOES_ARP_CHECK=y/m,
    );
  });
});
