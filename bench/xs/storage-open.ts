// XS entry (node scripts/xs-run.mjs bench/xs/storage-open.ts): opening a full
// 1 MiB partition and the store's hot paths, timed inside the XS engine.
import { measureHotPath, measureOpen } from "./storage-measure";

declare const issueCommand: (bytes: ArrayBuffer) => ArrayBuffer;

const figures = { ...measureOpen(() => performance.now()), ...measureHotPath(() => performance.now()) };
issueCommand(new TextEncoder().encode(JSON.stringify(figures)).buffer as ArrayBuffer);
