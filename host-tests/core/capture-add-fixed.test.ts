// The collector's hot path (BlockWriter.addFixed: fit check, steady times and raw columns inlined) must
// write exactly the blocks the reference path (fitsFixed + appendFixed, which the codec property tests
// check against protobuf-es) writes, for every kind, batch size, time pattern and value mix.
import { BlockWriter } from "../../modules/capture/block-writer";
import {
  KIND_ANALOG,
  KIND_ANGULAR_VELOCITY,
  KIND_GEO_POSITION,
  KIND_GPIO,
  kindArity,
} from "../../modules/capture/methods";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

test("addFixed writes the same blocks as fitsFixed + appendFixed (random kinds, batches, times, values)", () => {
  let blocks = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = new Random(seed);
    const kind = rnd.pick([KIND_ANGULAR_VELOCITY, KIND_GEO_POSITION, KIND_ANALOG, KIND_GPIO]);
    const arity = kind === KIND_GPIO ? 1 : kindArity(kind);
    const capacity = rnd.pick([64, 120, 300, 1000, 4000]);
    const reference = new BlockWriter(kind, capacity);
    const hot = new BlockWriter(kind, capacity);
    if (seed % 5 === 0) {
      reference.declareStep(131, 0);
      hot.declareStep(131, 0);
    }
    const a: string[] = [];
    const b: string[] = [];
    const seal = (w: BlockWriter, out: string[]) => {
      if (w.count === 0) return;
      w.seal();
      out.push(hex(w.bytes.subarray(0, w.ends[0])));
      w.clear();
    };
    const values = new Float64Array(3);
    let t = 1_700_000_000_000_000;
    let wall = true;
    for (let i = 0; i < 600; i++) {
      // Steady 5 ms mostly; jitter, gaps, a step backwards, latencies now and then.
      const r = rnd.int(20);
      t += r === 0 ? 5000 + rnd.int(900) : r === 1 ? -3000 : r === 2 ? 10_000_000 : 5000;
      const latency = rnd.int(10) === 0 ? rnd.int(70_000) : 0;
      if (rnd.int(150) === 0) wall = !wall;
      for (let c = 0; c < arity; c++) {
        const m = rnd.int(6);
        values[c] =
          kind === KIND_GPIO
            ? rnd.int(2)
            : m === 0
              ? Math.sin(i / 7 + c) // noisy: the raw path
              : m === 1
                ? rnd.int(4096) // whole numbers
                : m === 2
                  ? Math.round(rnd.float() * 1e4) / 100 // two decimals
                  : m === 3
                    ? (rnd.int(65536) - 32768) / 131 // the declared step
                    : m === 4
                      ? rnd.pick([-0, 2 ** 53 + 2, 5e-324, 1e300])
                      : (i % 7) - 3;
      }
      const monotonicMs = i * 5;
      if (!reference.fitsFixed(wall, arity)) seal(reference, a);
      const okA = reference.appendFixed(wall, 3, t, t + latency, monotonicMs, values, arity);
      let added = hot.addFixed(wall, 3, t, t + latency, monotonicMs, values, arity);
      if (added === 0) {
        seal(hot, b);
        added = hot.addFixed(wall, 3, t, t + latency, monotonicMs, values, arity);
      }
      assert.equal(added === 1, okA, `seed ${seed} reading ${i}: the same verdict`);
    }
    seal(reference, a);
    seal(hot, b);
    assert.equal(b.length, a.length, `seed ${seed}: blocks`);
    for (let k = 0; k < a.length; k++) assert.equal(b[k], a[k], `seed ${seed} block ${k}`);
    blocks += a.length;
  }
  assert.ok(blocks > 100, `${blocks} blocks compared`);
});
