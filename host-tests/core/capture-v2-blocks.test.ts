// Blocks written by capsync 0.2 (format 2: raw doubles at any bit offset; fixtures made by that code
// before format 3 existed) still decode to exactly the SensorData 0.2 produced.
import {
  blockKind,
  blockTimes,
  readingCount,
  readingCountIn,
  SensorDataTranscoder,
} from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { V1_BLOCKS } from "./capture-v1-fixtures";
import { V2_BLOCKS, V2_OFFSET_US } from "./capture-v2-fixtures";

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return s;
}

test("format 2 blocks from 0.2 decode byte-identically (raw columns, raw and long escapes, Readings, GPIO)", () => {
  assert.ok(V2_BLOCKS.length >= 8);
  const transcoder = new SensorDataTranscoder({ offsetUs: () => V2_OFFSET_US });
  for (const fixture of V2_BLOCKS) {
    const block = fromHex(fixture.block);
    assert.equal(block[0], 0xcb, `${fixture.name} is a format-2 block`);
    const w = new ProtoWriter(64);
    assert.equal(transcoder.writeSensorData(block, w, 2), fixture.readings, fixture.name);
    assert.equal(toHex(w.finish()), fixture.sensorData, fixture.name);
    assert.equal(readingCount(block), fixture.readings, fixture.name);
    assert.equal(blockKind(block), block[1]!);
    assert.ok(blockTimes(block).lastMs > 0, fixture.name);
  }
});

test("a format 2 block cut short or with a trailing byte is refused, not misread", () => {
  const transcoder = new SensorDataTranscoder({ offsetUs: () => V2_OFFSET_US });
  for (const fixture of V2_BLOCKS) {
    const block = fromHex(fixture.block);
    for (const bad of [block.subarray(0, block.length - 1), Uint8Array.from([...block, 0])]) {
      const w = new ProtoWriter(64);
      assert.throws(() => transcoder.writeSensorData(bad, w, 2), undefined, fixture.name);
      assert.equal(w.pos, 0, fixture.name);
    }
  }
});

test("readingCountIn (the store's census, in place) agrees with readingCount and refuses what it refuses", () => {
  for (const fixture of [...V1_BLOCKS, ...V2_BLOCKS]) {
    const block = fromHex(fixture.block);
    // Embedded in a larger buffer, as the store's sector scratch holds it.
    const b = new Uint8Array(block.length + 7).fill(0xee);
    b.set(block, 3);
    assert.equal(readingCountIn(b, 3, 3 + block.length), readingCount(block), fixture.name);
    const format3 = b.slice();
    format3[3] = 0xcc;
    assert.equal(
      readingCountIn(format3, 3, 3 + block.length),
      fixture.readings,
      `${fixture.name} as format 3`,
    );
    for (const [at, value] of [
      [3, 0xcd],
      [4, 0],
      [4, 12],
    ] as const) {
      const bad = b.slice();
      bad[at] = value;
      assert.throws(() => readingCountIn(bad, 3, 3 + block.length), undefined, `${fixture.name}: byte ${at}`);
      assert.throws(() => readingCount(bad.subarray(3, 3 + block.length)), undefined, fixture.name);
    }
    assert.throws(() => readingCountIn(b, 3, 3 + 10), undefined, "too short");
  }
});
