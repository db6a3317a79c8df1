// A driver that offers the partition mapped (FlashPort.map): the store reads records straight from
// it; a map that fails or has the wrong size is logged and reads copy through `read` as without one.

import type { FlashPort } from "../../modules/ports";
import { NorImage } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { mappedNor, RecordingLogger, TestBatch } from "../support/flash-scenario";

const KEY = "rdk:component:sensor/m/Readings";

/** Appends 20 records to a fresh store on `flash` and reads them back in one chunk. */
function appendAndRead(flash: FlashPort, log: RecordingLogger): Uint8Array[] {
  const ring = openRingStore({ flash, log, layout: [{ key: KEY, sectors: 4 }] }).ring(KEY)!;
  const batch = new TestBatch(4096, 32);
  for (let i = 0; i < 20; i++) batch.add(new Uint8Array(30).fill(i + 1));
  ring.append(batch);
  const chunk = ring.read(1 << 16)!;
  assert.equal(chunk.records.length, 20);
  for (let i = 0; i < 20; i++) assert.deepEqual([...chunk.records[i]!], new Array(30).fill(i + 1));
  return chunk.records;
}

test("storage map: records are read from the mapped partition, with no driver read", () => {
  const nor = new NorImage({ size: 16 * 512, sectorSize: 512 });
  const log = new RecordingLogger();
  const ring = openRingStore({
    flash: mappedNor(nor, () => nor.bytes),
    log,
    layout: [{ key: KEY, sectors: 4 }],
  }).ring(KEY)!;
  const batch = new TestBatch(4096, 32);
  for (let i = 0; i < 5; i++) batch.add(new Uint8Array(30).fill(i + 1));
  ring.append(batch);
  const before = nor.readOps;
  const chunk = ring.read(1 << 16)!;
  assert.equal(chunk.records.length, 5);
  assert.equal(nor.readOps, before, "no copy through the driver");
  // Records are copies: a later erase of their sector does not change what was read.
  const first = [...chunk.records[0]!];
  nor.bytes.fill(0, 0, nor.size);
  assert.deepEqual([...chunk.records[0]!], first);
  assert.equal(log.lines.filter((l) => l.includes("map")).length, 0);
});

test("storage map: a map that throws, is missing or has the wrong size is logged; reads copy", () => {
  const cases: [string, (nor: NorImage) => () => Uint8Array | undefined, string][] = [
    [
      "throws",
      () => () => {
        throw new Error("no MMU pages left");
      },
      "cannot be mapped (no MMU pages left)",
    ],
    ["too short", (nor) => () => nor.bytes.subarray(0, 512), "has 512 bytes, not 8192"],
    ["undefined", () => () => undefined, ""],
  ];
  for (const [what, map, message] of cases) {
    const nor = new NorImage({ size: 16 * 512, sectorSize: 512 });
    const log = new RecordingLogger();
    const flash = mappedNor(nor, map(nor));
    appendAndRead(flash, log);
    const warned = log.lines.filter((l) => l.includes("reads copy instead"));
    if (message === "") assert.equal(warned.length, 0, what);
    else {
      assert.equal(warned.length, 1, `${what}: ${log.lines.join(" | ")}`);
      assert.ok(warned[0]!.includes(message), `${what}: ${warned[0]}`);
    }
    assert.ok(nor.readOps > 0, `${what}: the records came through the driver`);
  }
});
