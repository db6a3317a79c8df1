// Readings maps whose fields are all numbers are transcoded from a template made once per schema
// (transcoder.ts, readingsTemplate): a transcoder that saw other schemas before must write exactly what
// a fresh one writes, whatever changed between blocks (names from the dictionary or spelled out, the
// same number of fields, a field that is not a number, a block refused half way through its schema).
import { BlockWriter } from "../../modules/capture/block-writer";
import { KIND_READINGS } from "../../modules/capture/methods";
import { SensorDataTranscoder } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";

const WALL_US = 1_767_225_600_000_000;
const offsets = { offsetUs: () => 0 };

type Field = [name: string, value: number | boolean];

function block(fields: Field[], readings: number, seed: number): Uint8Array {
  const w = new BlockWriter(KIND_READINGS, 2000);
  for (let r = 0; r < readings; r++) {
    w.beginReading();
    for (const [name, value] of fields) {
      if (typeof value === "boolean") w.bool(name, value !== (r % 2 === 1));
      else w.number(name, value + r * 0.25 + seed + (r === 2 ? Math.PI : 0));
    }
    assert.equal(w.endReading(), 0);
    assert.ok(w.fitsReading(true));
    const t = WALL_US + seed * 10_000_000 + r * 1_000_000 + (r === 3 ? 1234 : 0);
    assert.ok(w.commitReading(true, 1, t, t + (r % 2) * 17, t / 1000));
  }
  w.seal();
  return w.bytes.slice(0, w.ends[0]);
}

function transcode(t: SensorDataTranscoder, record: Uint8Array): string {
  const w = new ProtoWriter(64);
  t.writeSensorData(record, w, 2);
  return Array.from(w.finish(), (b) => b.toString(16).padStart(2, "0")).join("");
}

test("Readings template: a transcoder that saw other schemas writes what a fresh one writes", () => {
  const schemas: Field[][] = [
    [
      ["temperature", 20.5],
      ["humidity", 40],
    ],
    [
      ["pressure", 1013.25],
      ["battery", 99],
    ],
    [
      ["alpha", 1],
      ["beta", 2],
    ],
    [
      ["gamma", 3],
      ["delta", 4],
    ],
    [
      ["alpha", 1],
      ["beta", 2],
      ["zeta", 5],
    ],
    [
      ["alpha", 1],
      ["beta", 2],
    ],
    [
      ["alpha", 1],
      ["beta", true],
    ],
    [
      ["alpha", 1],
      ["beta", 2],
    ],
    [
      ["temperature", 20.5],
      ["humidity", 40],
    ],
  ];
  const shared = new SensorDataTranscoder(offsets);
  let n = 0;
  for (let round = 0; round < 2; round++) {
    for (const [i, fields] of schemas.entries()) {
      const record = block(fields, 5, i + round);
      assert.equal(
        transcode(shared, record),
        transcode(new SensorDataTranscoder(offsets), record),
        `schema ${i}`,
      );
      n++;
    }
  }
  assert.equal(n, 18);
});

test("Readings template: a block refused inside its schema leaves no stale template behind", () => {
  const shared = new SensorDataTranscoder(offsets);
  const good = block(
    [
      ["alpha", 1],
      ["beta", 2],
    ],
    4,
    1,
  );
  const other = block(
    [
      ["gamma", 3],
      ["delta", 4],
    ],
    4,
    2,
  );
  transcode(shared, good);
  // `other` cut inside its schema's second name: refused after the first entry was read.
  const cut = other.slice(0, other.indexOf(0x64 /* "d" */) + 2);
  assert.throws(() => transcode(shared, cut));
  // The schema it half read (gamma, beta) is a schema of its own, not the one before.
  const mixed = block(
    [
      ["gamma", 3],
      ["beta", 2],
    ],
    4,
    3,
  );
  assert.equal(transcode(shared, mixed), transcode(new SensorDataTranscoder(offsets), mixed));
  assert.equal(transcode(shared, good), transcode(new SensorDataTranscoder(offsets), good));
  assert.equal(transcode(shared, other), transcode(new SensorDataTranscoder(offsets), other));
});
