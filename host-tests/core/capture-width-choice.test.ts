// A block's field widths come from the previous block's statistics (FORMAT.md: the writer picks, per row,
// the width that makes the row cheapest). The writer keeps that cheap: bounds instead of scans of the
// buckets, steady readings counted once per block. Checked here against the definition, worked out by
// brute force from the readings themselves: for every block after the first, the Δ² and latency widths
// and the column's width in its header are the cheapest for what the block before it held.
import { BlockWriter, ESCAPE_CPU_BITS } from "../../modules/capture/block-writer";
import { KIND_ANALOG } from "../../modules/capture/methods";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

const zigzag = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);
/** The bits z + 1 needs (the writer's bucket of z), 33 for z ≥ 2^32 − 1. */
const bucket = (z: number) => (z < 0xffffffff ? Math.floor(Math.log2(z + 1)) + 1 : 33);

/** The cheapest width ≤ maxWidth for these buckets (ties: the narrower), or `fallback` for none. */
function cheapest(buckets: number[], maxWidth: number, fallback: number): number {
  if (buckets.length === 0) return fallback;
  let best = 0;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let w = 1; w <= maxWidth; w++) {
    // Each field takes w bits; one that does not fit is escaped: its long form is costed at b + 8 bits
    // (the marker's w bits, then a flag, 6 bits of length and about b bits: the writer's estimate), plus
    // ESCAPE_CPU_BITS for the CPU an escape costs both sides.
    let cost = 0;
    for (const b of buckets) cost += b > w ? w + b + 8 + ESCAPE_CPU_BITS : w;
    if (cost < bestCost) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

function varintEnd(bytes: Uint8Array, at: number): number {
  while (bytes[at]! >= 0x80) at++;
  return at + 1;
}

/** The widths in a one-column block's header: Δ², latency, the column. */
function headerWidths(block: Uint8Array): [number, number, number] {
  let p = 9; // magic, kind, flags, count, span
  p = varintEnd(block, p); // boot id
  p = varintEnd(block, p); // base time
  p = varintEnd(block, p); // time step
  const times = block[p++]!;
  const column = block[p++]!;
  const width = (column & 0x0f) === 0 ? block[p]! : column & 0x0f;
  assert.equal(column >> 4, 0, "a whole-number column (mode 0)");
  return [times & 0x0f, times >> 4, width];
}

test("block start: each row's width is the cheapest for the block before (irregular times, escapes)", () => {
  let checked = 0;
  let changed = 0;
  let escapedBlocks = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const rnd = new Random(seed);
    for (let k = 0; k < 20; k++) rnd.u32(); // past xorshift's small first outputs for small seeds
    const w = new BlockWriter(KIND_ANALOG, rnd.pick([300, 1000, 4000]));
    const values = new Float64Array(1);
    // What the writer saw, per block: the buckets of each row.
    let dod: number[] = [];
    let latency: number[] = [];
    let column: number[] = [];
    let previous: { dod: number[]; latency: number[]; column: number[] } | undefined;
    let widths: [number, number, number] = [4, 4, 10]; // the first block's (no statistics yet)
    let t = 1_700_000_000_000_000;
    let prevT = 0;
    let prevDelta = 0;
    let prevValue = 0;
    let v = 2000;
    // How irregular the stream is, per seed: times jittered in none, a few or most readings; late reads
    // and value jumps the same.
    const jitter = rnd.pick([0, 3, 20, 38]);
    const lateness = rnd.pick([0, 3, 20, 38]);
    const jumps = rnd.pick([0, 1, 3, 15]);
    const check = (block: Uint8Array) => {
      const got = headerWidths(block);
      if (previous) {
        const want: [number, number, number] = [
          cheapest(previous.dod, 15, widths[0]),
          cheapest(previous.latency, 15, widths[1]),
          cheapest(previous.column, 32, widths[2]),
        ];
        assert.deepEqual(got, want, `seed ${seed}: widths of block ${checked}`);
        if (want.join() !== widths.join()) changed++;
        if (previous.column.some((b) => b > widths[2])) escapedBlocks++;
        checked++;
      }
      widths = got;
    };
    const seal = () => {
      w.seal();
      check(w.bytes.slice(0, w.ends[0]));
      w.clear();
      previous = { dod, latency, column };
      dod = [];
      latency = [];
      column = [];
    };
    for (let i = 0; i < 4000; i++) {
      const r = rnd.int(40);
      t += r < jitter ? 5000 + rnd.int(3000) - 1500 : r === 39 ? 2_000_000 : 5000;
      const late = rnd.int(40) < lateness ? rnd.int(2 ** rnd.int(17)) : 0;
      v += rnd.int(40) < jumps ? rnd.int(2 ** rnd.int(31)) - 2 ** 29 : rnd.int(7) - 3;
      v = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
      // Now and then a whole number far beyond 32 bits (its delta's zigzag needs more than 32 bits).
      if (jumps > 0 && rnd.int(400) === 0) v = rnd.int(2) === 0 ? 2 ** 40 : -(2 ** 40);
      values[0] = v;
      let added = w.addFixed(true, 7, t, t + late, i, values, 1);
      if (added === 0) {
        seal();
        added = w.addFixed(true, 7, t, t + late, i, values, 1);
      }
      assert.equal(added, 1);
      // The block's statistics as the format defines them.
      if (w.count > 1) {
        const delta = t - prevT;
        dod.push(bucket(zigzag(delta - prevDelta)));
        prevDelta = delta;
        column.push(bucket(zigzag(v - prevValue)));
      } else column.push(1); // the first value is the block's base: a zero delta
      latency.push(bucket(late));
      prevT = t;
      prevValue = v;
    }
    seal();
  }
  // The check saw widths move, and blocks with escapes (fields wider than the block's width).
  assert.ok(
    checked > 100 && changed > 20 && escapedBlocks > 20,
    `${checked} blocks, ${changed} changed, ${escapedBlocks} with escapes`,
  );
});
