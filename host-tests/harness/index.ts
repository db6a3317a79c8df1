// Tests in host-tests/core/ import only this module (and the core): they run
// in the Node lane and, unchanged, inside the XS engine (see scripts/xs-lane.mjs).
export * as assert from "./assert";
export { test } from "./runner";
