// The NOR emulation enforces what real NOR flash does (and what a caller bug
// would violate), counts wear, and tears operations the way a power cut can.

import { crc32 } from "../../modules/storage/crc32";
import { NorImage, PowerCutError } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";

const S = 256;

function image(): NorImage {
  return new NorImage({ size: 4 * S, sectorSize: S });
}

test("a blank image reads all 0xFF; a program clears bits and reads back", () => {
  const f = image();
  const out = new Uint8Array(4);
  f.read(10, out);
  assert.deepEqual(out, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  f.write(10, new Uint8Array([0x12, 0xf0, 0x00, 0xff]));
  f.read(10, out);
  assert.deepEqual(out, new Uint8Array([0x12, 0xf0, 0x00, 0xff]));
  // Clearing more bits of already-programmed bytes is legal NOR use.
  f.write(10, new Uint8Array([0x10, 0x30, 0x00, 0x0f]));
  f.read(10, out);
  assert.deepEqual(out, new Uint8Array([0x10, 0x30, 0x00, 0x0f]));
});

test("a program that would set a bit throws and changes nothing", () => {
  const f = image();
  f.write(0, new Uint8Array([0x0f]));
  assert.throws(() => f.write(0, new Uint8Array([0x1f])), "set bits");
  const out = new Uint8Array(1);
  f.read(0, out);
  assert.equal(out[0], 0x0f);
  assert.equal(f.programOps, 1);
});

test("erase resets exactly one sector to 0xFF and counts per sector", () => {
  const f = image();
  f.write(S - 2, new Uint8Array([0, 0, 0, 0])); // straddles sectors 0 and 1
  f.eraseSector(1);
  const out = new Uint8Array(4);
  f.read(S - 2, out);
  assert.deepEqual(out, new Uint8Array([0, 0, 0xff, 0xff]));
  f.eraseSector(1);
  f.eraseSector(3);
  assert.deepEqual(Array.from(f.sectorErases), [0, 2, 0, 1]);
  assert.equal(f.erases, 3);
});

test("out-of-range reads, writes and erases throw", () => {
  const f = image();
  assert.throws(() => f.read(4 * S - 1, new Uint8Array(2)), "outside");
  assert.throws(() => f.read(-1, new Uint8Array(1)), "outside");
  assert.throws(() => f.write(4 * S, new Uint8Array(1)), "outside");
  assert.throws(() => f.write(1.5, new Uint8Array(1)), "outside");
  assert.throws(() => f.eraseSector(4), "outside");
  assert.throws(() => f.eraseSector(-1), "outside");
  assert.throws(() => new NorImage({ size: 1000, sectorSize: S }), "whole number");
});

test("counters: program operations, bytes programmed, reads", () => {
  const f = image();
  f.write(0, new Uint8Array(10));
  f.write(100, new Uint8Array(30));
  f.read(0, new Uint8Array(7));
  assert.equal(f.programOps, 2);
  assert.equal(f.bytesProgrammed, 40);
  assert.equal(f.readOps, 1);
  assert.equal(f.bytesRead, 7);
  assert.equal(f.operations, 2);
  f.resetCounters();
  assert.equal(f.programOps + f.bytesProgrammed + f.erases + f.readOps, 0);
});

test("power cut: the chosen operation tears, then everything throws until reboot", () => {
  const f = image();
  f.armPowerCut({ atOperation: 1, tear: "none" });
  f.write(0, new Uint8Array([1]));
  assert.throws(() => f.write(1, new Uint8Array([2])), "power cut");
  assert.ok(f.poweredOff);
  let kind = "";
  try {
    f.read(0, new Uint8Array(1));
  } catch (error) {
    kind = (error as Error).name;
  }
  assert.equal(kind, "PowerCutError");
  assert.throws(() => f.eraseSector(0), "powered off");
  f.reboot();
  const out = new Uint8Array(2);
  f.read(0, out);
  assert.deepEqual(out, new Uint8Array([1, 0xff]), "torn 'none' program left nothing");
  f.write(1, new Uint8Array([2]));
});

test("torn program, prefix: the image holds a prefix of the data, the rest untouched", () => {
  let sawPartial = false;
  for (let seed = 1; seed <= 20; seed++) {
    const f = image();
    const data = new Uint8Array(64).fill(0x00);
    f.armPowerCut({ atOperation: 0, tear: "prefix", seed });
    assert.throws(() => f.write(0, data), "power cut");
    f.reboot();
    const out = new Uint8Array(64);
    f.read(0, out);
    const n = out.indexOf(0xff) < 0 ? 64 : out.indexOf(0xff);
    for (let i = 0; i < 64; i++) assert.equal(out[i], i < n ? 0x00 : 0xff, `seed ${seed} byte ${i}`);
    if (n > 0 && n < 64) sawPartial = true;
  }
  assert.ok(sawPartial);
});

test("torn program, bits: only bits the data clears may be cleared, some are", () => {
  const f = image();
  const data = new Uint8Array(64);
  for (let i = 0; i < 64; i++) data[i] = (i * 37) & 0xff;
  f.armPowerCut({ atOperation: 0, tear: "bits", seed: 5 });
  assert.throws(() => f.write(0, data), "power cut");
  f.reboot();
  const out = new Uint8Array(64);
  f.read(0, out);
  let differs = 0;
  for (let i = 0; i < 64; i++) {
    assert.equal(out[i]! & data[i]!, data[i], `byte ${i} has a bit cleared that the data keeps`);
    if (out[i] !== data[i]) differs++;
  }
  assert.ok(differs > 0, "the torn program completed exactly");
});

test("torn erase leaves the sector in an arbitrary state; other sectors untouched", () => {
  for (const tear of ["prefix", "bits", "random"] as const) {
    const f = image();
    for (let s = 0; s < 4; s++) f.write(s * S, new Uint8Array(S));
    const before = crc32(f.bytes);
    f.armPowerCut({ atOperation: 4, tear, seed: 9 });
    assert.throws(() => f.eraseSector(2), "power cut", tear);
    assert.notEqual(crc32(f.bytes), before, `${tear}: erase tear changed nothing`);
    const sector2 = f.bytes.subarray(2 * S, 3 * S);
    assert.ok(
      sector2.some((b) => b !== 0xff),
      `${tear}: torn erase looks complete`,
    );
    for (const s of [0, 1, 3])
      assert.ok(
        f.bytes.subarray(s * S, (s + 1) * S).every((b) => b === 0),
        `${tear}: sector ${s}`,
      );
    assert.equal(f.erases, 0, "a torn erase is not a completed one");
  }
});

test("onChange sees every changed range, torn ones included", () => {
  const seen: string[] = [];
  const f = new NorImage({ size: 2 * S, sectorSize: S, onChange: (o, l) => seen.push(`${o}+${l}`) });
  f.write(3, new Uint8Array(5));
  f.eraseSector(1);
  f.armPowerCut({ atOperation: 2, tear: "prefix", seed: 3 });
  assert.throws(() => f.write(20, new Uint8Array(4)));
  assert.deepEqual(seen, ["3+5", `${S}+${S}`, "20+4"]);
  assert.ok(new PowerCutError("x") instanceof Error);
});

test("crc32 matches the IEEE check value", () => {
  const bytes = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]); // "123456789"
  assert.equal(crc32(bytes), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});
