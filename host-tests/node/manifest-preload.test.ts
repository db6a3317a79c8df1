// Every firmware module is preloaded by name: Moddable's "*" wildcards match only .js files, and a module
// that is not preloaded is loaded into the XS heap at boot (thousands of slots a no-PSRAM ESP32 does not
// have). A module added without its preload entry fails here.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));

function modulesIn(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => `${dir}/${f.slice(0, -3)}`);
}

test("manifest: every core and platform module is preloaded by name", () => {
  const manifest = read("manifest.json");
  const board = read("boards/esp32-common.json");
  const core = new Set<string>(manifest.preload);
  const lin = new Set<string>([...core, ...manifest.platforms.lin.preload]);
  const esp32 = new Set<string>([...core, ...board.preload]);
  const coreModules = ["modules/ports"];
  for (const d of [
    "app",
    "capture",
    "config",
    "manager",
    "power",
    "proto",
    "rpc",
    "storage",
    "sync",
    "platform/moddable",
  ])
    coreModules.push(...modulesIn(`modules/${d}`));
  for (const m of coreModules) assert.ok(core.has(m), `${m} is not in manifest.json "preload"`);
  for (const m of ["modules/platform/device", ...modulesIn("modules/platform/lin")])
    assert.ok(lin.has(m), `${m} is not preloaded for lin`);
  for (const m of [
    "modules/platform/device",
    ...modulesIn("modules/platform/esp32"),
    ...modulesIn("modules/platform/esp32/drivers"),
  ])
    assert.ok(esp32.has(m), `${m} is not preloaded for esp32 (boards/esp32-common.json)`);
  // The TLS fragment (both platforms include it) preloads the verifier and its SDK glue.
  const tls = new Set<string>(read("modules/platform/moddable/tls/manifest.json").preload);
  for (const m of [...modulesIn("modules/tls"), ...modulesIn("modules/platform/moddable/tls")])
    assert.ok(tls.has(m), `${m} is not preloaded by the TLS fragment`);
  // And nothing stale: a preload entry for a module that no longer exists breaks the build.
  // (SDK modules preloaded by name, such as lin's "preference", are the SDK's to keep.)
  for (const m of [...core, ...lin, ...esp32, ...tls].filter((t) => t.startsWith("modules/")))
    assert.ok(
      fs.existsSync(path.join(root, `${m}.ts`)) || fs.existsSync(path.join(root, `${m}.js`)),
      `preload entry ${m} has no module`,
    );
});

test("esp32 boards: XS pools fit a no-PSRAM ESP32 (chunk + 16 B × slots ≤ 160 KB, fixed)", () => {
  const creation = read("boards/esp32-common.json").creation;
  const total = creation.chunk.initial + 16 * creation.heap.initial;
  assert.ok(total <= 160 * 1024, `${total} bytes`);
  assert.equal(creation.chunk.incremental, 0);
  assert.equal(creation.heap.incremental, 0);
});

// Moddable freezes what a preloaded module creates at load into flash: a module-level Map, Set,
// WeakMap or WeakSet is read-only on the device, and the first .set() at run time throws (a battery-mode
// sync wake once died that way in the simulator). Keep such caches on instances.
test("no module-level Map/Set/WeakMap/WeakSet in firmware modules (frozen at preload on Moddable)", () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        fs.readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (/^(export\s+)?(const|let|var)\s+\w+(\s*:[^=]+)?\s*=\s*new\s+(Weak)?(Map|Set)\b/.test(line))
              offenders.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  walk(path.join(root, "modules"));
  assert.deepEqual(offenders, []);
});
