// Property: any stream of readings — random steps, drifting codes, sudden jumps, every special double,
// exact and inexact values mixed, steady or jittery times — comes back from flash bit for bit, and the
// SensorData the cloud gets is byte-identical to protobuf-es's encoding of the original readings.
// Runs in the Node and XS lanes (sized for CI here; host-tests/node/capture-codec-soak.test.ts runs more).
import "../support/timers-absent";
import fc from "fast-check";
import { assert, test } from "../harness/index";
import { roundTrip, streamParams } from "../support/capture-streams";

test("codec property: random streams round-trip through the ring store; SensorData identical to protobuf-es", () => {
  let readings = 0;
  let blocks = 0;
  fc.assert(
    fc.property(streamParams, (p) => {
      const r = roundTrip(p);
      assert.equal(r.readings, p.readings, "every reading comes back");
      assert.equal(r.actual, r.expected, `SensorData of ${JSON.stringify(p)}`);
      readings += r.readings;
      blocks += r.blocks;
    }),
    { seed: 0x13c0dec, numRuns: 40 },
  );
  // The runs must reach multi-block streams, not only single readings.
  assert.ok(blocks > 60, `blocks ${blocks}`);
  assert.ok(readings > 4000, `readings ${readings}`);
});
