// Run one TypeScript entry inside the XS engine and print every message it
// sends with `issueCommand` as one JSON line on stdout. Used by benchmarks:
//   node scripts/xs-run.mjs bench/xs/storage-open.ts
// In the entry: `declare const issueCommand: (b: ArrayBuffer) => ArrayBuffer;`
// and send `new TextEncoder().encode(JSON.stringify(obj)).buffer`.
import { bundle, runInXs } from "./xs-lane.mjs";

const entry = process.argv[2];
if (!entry) {
  console.error("usage: node scripts/xs-run.mjs ENTRY.ts");
  process.exit(2);
}
const code = await bundle(entry);
await runInXs(`globalThis.console = { log: (...a) => print(a.join(" ")) }; ${code}`, (message) => {
  console.log(JSON.stringify(message));
});
