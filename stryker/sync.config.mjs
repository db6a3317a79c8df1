// StrykerJS over modules/sync with the sync and data-manager tests (fake clocks, in-memory fakes);
// options in stryker/area.mjs.
import { areaConfig } from "./area.mjs";

// The isolation tests' multi-hour fake-time runs take 2 h instead of 6 per mutant.
process.env.SYNC_ISOLATION_HOURS ??= "2";

export default areaConfig("sync", (f) => /^sync-.*\.test\.ts$/.test(f) || f === "manager.test.ts");
