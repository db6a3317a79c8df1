// The codec property of host-tests/core/capture-codec-property.test.ts with many more streams (Node lane
// only: too slow for the XS lane in CI), plus streams made only of special doubles and raw bit patterns.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { roundTrip, streamParams } from "../support/capture-streams";

test("codec soak: 400 random streams round-trip bit for bit, SensorData identical to protobuf-es", () => {
  fc.assert(
    fc.property(streamParams, (p) => {
      const r = roundTrip(p);
      assert.equal(r.readings, p.readings);
      assert.equal(r.actual, r.expected, JSON.stringify(p));
    }),
    { seed: 0x50a4, numRuns: 400 },
  );
});

test("codec soak: streams where every value is a special double or a random bit pattern", () => {
  fc.assert(
    fc.property(streamParams, (p) => {
      const r = roundTrip({ ...p, mixPerMille: 1000 });
      assert.equal(r.actual, r.expected, JSON.stringify(p));
    }),
    { seed: 0x5bec, numRuns: 100 },
  );
});
