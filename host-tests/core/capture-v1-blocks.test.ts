// Blocks written by capsync 0.1 (format 1, fixtures made by that code before format 2 existed) still
// decode to exactly the SensorData 0.1 produced: a device upgraded in the field uploads what it had.
import { blockKind, blockTimes, readingCount, SensorDataTranscoder } from "../../modules/capture/transcoder";
import { ProtoWriter } from "../../modules/proto/writer";
import { assert, test } from "../harness/index";
import { V1_BLOCKS, V1_OFFSET_US } from "./capture-v1-fixtures";

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

test("format 1 blocks from 0.1 decode byte-identically (every kind, specials, strings, lists, monotonic)", () => {
  assert.ok(V1_BLOCKS.length >= 6);
  const transcoder = new SensorDataTranscoder({ offsetUs: () => V1_OFFSET_US });
  for (const fixture of V1_BLOCKS) {
    const block = fromHex(fixture.block);
    assert.equal(block[0], 0xca, `${fixture.name} is a format-1 block`);
    const w = new ProtoWriter(64);
    assert.equal(transcoder.writeSensorData(block, w, 2), fixture.readings, fixture.name);
    assert.equal(toHex(w.finish()), fixture.sensorData, fixture.name);
    assert.equal(readingCount(block), fixture.readings, fixture.name);
    assert.equal(blockKind(block), block[1]!);
    assert.ok(blockTimes(block).lastMs > 0, fixture.name);
  }
});
