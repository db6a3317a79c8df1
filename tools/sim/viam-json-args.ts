/*
 * Print the mcconfig provisioning arguments for a viam.json:
 *   node --import tsx tools/sim/viam-json-args.ts path/to/viam.json
 *   → partId=… secret=… appAddress=…
 * Used for ESP32 builds and the simulator alike (docs/esp32.md, "Provisioning").
 * The file is checked with the firmware's own parser, so a bad file fails here
 * with the same message the device would log.
 */
import * as fs from "node:fs";
import { parseViamJson } from "../../modules/app/credentials";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx tools/sim/viam-json-args.ts viam.json");
  process.exit(2);
}
try {
  const { partId, secret, appAddress } = parseViamJson(fs.readFileSync(file, "utf8"));
  const quote = (value: string): string =>
    /^[\w.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
  console.log(`partId=${quote(partId)} secret=${quote(secret)} appAddress=${quote(appAddress)}`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
