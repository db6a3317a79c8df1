// StrykerJS over modules/storage with the storage tests (host-tests/core/storage-*.test.ts and the
// ring-sizing test); options in stryker/area.mjs.
import { areaConfig } from "./area.mjs";

export default areaConfig(
  "storage",
  (f) => /^storage-.*\.test\.ts$/.test(f) || f === "capture-ring-sizing.test.ts",
);
