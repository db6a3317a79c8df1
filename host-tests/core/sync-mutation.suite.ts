// Every test that guards modules/sync, in one process: `npm run mutation sync` runs this file once per
// mutant (stryker/sync.config.mjs) instead of starting six Node processes. Not a lane entry (no .test.ts).
import "./sync-backoff.test";
import "./sync-uploader.test";
import "./sync-schedule.test";
import "./sync-isolation.test";
import "./sync-metadata.test";
import "./manager.test";
