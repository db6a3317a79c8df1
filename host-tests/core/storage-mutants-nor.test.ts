// The NOR emulation's contract, edge by edge: geometry defaults and checks,
// exact range ends, every tear kind of a program and of an erase (as a power
// cut and as a driver fault), the seeded randomness of tears, fault targeting
// by operation and by sector, and what each counter counts. Every storage
// test leans on this emulation behaving as a real part would.

import {
  FlashFaultError,
  NorImage,
  PowerCutError,
  TEAR_MODES,
  type TearMode,
} from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";

const S = 256;

function image(sectors = 4): NorImage {
  return new NorImage({ size: sectors * S, sectorSize: S });
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

function differ(a: number[], b: number[], message: string): void {
  assert.ok(a.length !== b.length || a.some((x, i) => x !== b[i]), message);
}

function bytesAt(f: NorImage, offset: number, length: number): number[] {
  return Array.from(f.bytes.subarray(offset, offset + length));
}

test("defaults: 4 KiB sectors, 64 of them, all erased, no wear and powered on", () => {
  const f = new NorImage();
  assert.equal(f.sectorSize, 4096);
  assert.equal(f.size, 64 * 4096);
  assert.equal(f.sectorErases.length, 64);
  assert.ok(f.bytes.every((b) => b === 0xff));
  assert.equal(f.poweredOff, false);
  const small = new NorImage({ sectorSize: S });
  assert.equal(small.size, 64 * S, "64 sectors of the given size");
  assert.equal(new NorImage({ size: 3 * 4096 }).sectorErases.length, 3);
});

test("sector sizes that are not positive integers are refused, naming the size", () => {
  for (const bad of [0, -256, 1.5, Number.NaN]) {
    const e = caught(() => new NorImage({ size: 1024, sectorSize: bad }));
    assert.ok(e instanceof RangeError, String(bad));
    assert.ok(e.message.includes("NOR sector size must be a positive integer"), e.message);
    assert.ok(e.message.includes(String(bad)), e.message);
  }
  assert.equal(new NorImage({ size: 2, sectorSize: 1 }).sectorErases.length, 2, "1-byte sectors are fine");
});

test("an image size of zero or not a whole number of sectors is refused, naming both sizes", () => {
  for (const size of [0, S + 1, S / 2]) {
    const e = caught(() => new NorImage({ size, sectorSize: S }));
    assert.ok(e instanceof RangeError, String(size));
    assert.equal(e.message, `NOR size ${size} is not a whole number of ${S}-byte sectors`);
  }
  const e = caught(() => new NorImage({ bytes: new Uint8Array(0), sectorSize: S }));
  assert.ok(e instanceof RangeError);
});

test("given bytes are used in place and kept as they are; their length is the size", () => {
  const bytes = new Uint8Array(2 * S).fill(0x5a);
  const f = new NorImage({ bytes, sectorSize: S, size: 64 * S });
  assert.equal(f.size, 2 * S, "size comes from the bytes, not the option");
  assert.equal(f.sectorErases.length, 2);
  assert.equal(f.bytes, bytes);
  const out = new Uint8Array(2);
  f.read(10, out);
  assert.deepEqual(Array.from(out), [0x5a, 0x5a], "not wiped to 0xFF");
  f.write(10, new Uint8Array([0x10]));
  assert.equal(bytes[10], 0x10, "writes land in the caller's array");
  f.eraseSector(1);
  assert.ok(bytes.subarray(S).every((b) => b === 0xff));
  assert.equal(bytes[S - 1], 0x5a);
});

test("ranges that end exactly at the end of the image are fine, one byte past is not", () => {
  const f = image(2);
  f.write(2 * S - 3, new Uint8Array([1, 2, 3]));
  const out = new Uint8Array(3);
  f.read(2 * S - 3, out);
  assert.deepEqual(Array.from(out), [1, 2, 3]);
  f.read(0, new Uint8Array(2 * S));
  const w = caught(() => f.write(2 * S - 2, new Uint8Array(3)));
  assert.ok(w instanceof RangeError);
  assert.equal(w.message, `NOR write of 3 bytes at ${2 * S - 2} outside 0..${2 * S}`);
  const r = caught(() => f.read(2 * S - 1, new Uint8Array(2)));
  assert.equal(r.message, `NOR read of 2 bytes at ${2 * S - 1} outside 0..${2 * S}`);
  assert.ok(caught(() => f.read(0.5, new Uint8Array(1))) instanceof RangeError);
  assert.ok(caught(() => f.write(-1, new Uint8Array(1))) instanceof RangeError);
  assert.equal(f.operations, 1, "refused writes are not operations");
});

test("erase takes whole sector indexes 0..count-1 only, naming the range", () => {
  const f = image(3);
  f.eraseSector(2);
  f.eraseSector(0);
  for (const bad of [3, -1, 1.5, Number.NaN]) {
    const e = caught(() => f.eraseSector(bad));
    assert.ok(e instanceof RangeError, String(bad));
    assert.equal(e.message, `NOR erase of sector ${bad} outside 0..2`);
  }
  assert.deepEqual(Array.from(f.sectorErases), [1, 0, 1]);
  assert.equal(f.operations, 2);
});

test("a program clearing a bit that is already clear is fine; setting one names offset and values", () => {
  const f = image(1);
  f.write(5, new Uint8Array([0xa5]));
  f.write(5, new Uint8Array([0xa5]));
  f.write(5, new Uint8Array([0x21]));
  assert.equal(f.bytes[5], 0x21);
  const e = caught(() => f.write(4, new Uint8Array([0xff, 0x23])));
  assert.equal(e.message, "NOR write would set bits at offset 5 (0x21 → 0x23): erase first");
  assert.equal(f.bytes[4], 0xff, "nothing of a refused write lands");
  assert.equal(f.programOps, 3);
  assert.equal(f.bytesProgrammed, 3);
  assert.equal(f.operations, 3, "a refused write is not an operation");
});

test("counters: reads and programs count bytes and calls; erases count per sector; reset keeps the operation count", () => {
  const f = image(4);
  f.read(0, new Uint8Array(3));
  f.read(8, new Uint8Array(5));
  f.write(0, new Uint8Array(4));
  f.write(S, new Uint8Array(6));
  f.eraseSector(2);
  f.eraseSector(2);
  f.eraseSector(3);
  assert.deepEqual(
    [f.readOps, f.bytesRead, f.programOps, f.bytesProgrammed, f.erases, f.operations],
    [2, 8, 2, 10, 3, 5],
  );
  assert.deepEqual(Array.from(f.sectorErases), [0, 0, 2, 1]);
  f.resetCounters();
  assert.deepEqual([f.readOps, f.bytesRead, f.programOps, f.bytesProgrammed, f.erases], [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(f.sectorErases), [0, 0, 0, 0]);
  assert.equal(f.operations, 5, "operations keep counting from construction (cut plans refer to them)");
  f.armPowerCut({ atOperation: 5, tear: "none" });
  assert.ok(caught(() => f.eraseSector(1)) instanceof PowerCutError);
});

test("a power cut tears only the chosen operation; until reboot every call throws PowerCutError", () => {
  const f = image(2);
  f.armPowerCut({ atOperation: 2, tear: "none" });
  f.write(0, new Uint8Array([0x11]));
  f.eraseSector(1);
  assert.equal(f.poweredOff, false);
  const e = caught(() => f.write(1, new Uint8Array([0x22])));
  assert.ok(e instanceof PowerCutError);
  assert.equal(e.name, "PowerCutError");
  assert.equal(e.message, "power cut during a 1-byte program at 1");
  assert.equal(f.poweredOff, true);
  for (const call of [
    () => f.read(0, new Uint8Array(1)),
    () => f.write(2, new Uint8Array([0])),
    () => f.eraseSector(0),
  ]) {
    const off = caught(call);
    assert.ok(off instanceof PowerCutError);
    assert.equal(off.message, "NOR flash is powered off (power cut); reboot first");
  }
  assert.equal(f.operations, 3, "calls while off are not operations");
  f.reboot();
  assert.equal(f.poweredOff, false);
  assert.deepEqual(bytesAt(f, 0, 3), [0x11, 0xff, 0xff]);
  // The plan was used up: the operation numbers after it are not torn again.
  for (let i = 0; i < 4; i++) f.write(1 + i, new Uint8Array([i]));
  assert.equal(f.programOps, 5);
});

test("an erase cut names the sector; the torn erase is counted as an operation, not as an erase", () => {
  const f = image(3);
  f.armPowerCut({ atOperation: 0, tear: "none" });
  const e = caught(() => f.eraseSector(2));
  assert.equal(e.message, "power cut during the erase of sector 2");
  assert.deepEqual([f.erases, f.operations, f.sectorErases[2]], [0, 1, 0]);
});

test("reboot before the armed operation disarms it; disarm drops pending cuts and faults", () => {
  const f = image(2);
  f.armPowerCut({ atOperation: 1, tear: "none" });
  f.reboot();
  f.write(0, new Uint8Array([0]));
  f.write(1, new Uint8Array([0]));
  assert.equal(f.programOps, 2);
  const g = image(2);
  g.armPowerCut({ atOperation: 0, tear: "none" });
  g.armFault({ atOperation: 1, tear: "none" });
  g.disarm();
  g.write(0, new Uint8Array([0]));
  g.eraseSector(1);
  assert.deepEqual([g.programOps, g.erases], [1, 1]);
});

test("several armed faults each fail their own operation, once; the chip stays powered", () => {
  const f = image(2);
  f.armFault({ atOperation: 2, tear: "none" });
  f.armFault({ atOperation: 0, tear: "none" });
  const first = caught(() => f.write(0, new Uint8Array([1, 2])));
  assert.ok(first instanceof FlashFaultError);
  assert.equal(first.name, "FlashFaultError");
  assert.equal(first.message, "program of 2 bytes at 0 failed");
  f.write(0, new Uint8Array([1, 2]));
  const second = caught(() => f.eraseSector(1));
  assert.ok(second instanceof FlashFaultError);
  assert.equal(second.message, "erase of sector 1 failed");
  assert.equal(f.poweredOff, false);
  f.eraseSector(1);
  f.write(S, new Uint8Array([3]));
  assert.deepEqual([f.programOps, f.bytesProgrammed, f.erases, f.operations], [2, 3, 1, 5]);
  assert.deepEqual(Array.from(f.sectorErases), [0, 1]);
  assert.deepEqual(bytesAt(f, 0, 2), [1, 2]);
});

test("a failing sector fails programs that touch it, by any byte, and only those, until healed", () => {
  const f = image(4);
  f.failSector(1);
  f.failSector(3, "prefix");
  f.write(S - 4, new Uint8Array(4)); // ends exactly where sector 1 starts
  f.write(2 * S, new Uint8Array(4)); // starts right after it
  assert.equal(f.programOps, 2);
  assert.ok(
    caught(() => f.write(2 * S - 1, new Uint8Array([0xf0]))) instanceof FlashFaultError,
    "its last byte",
  );
  const straddle = caught(() => f.write(S - 1, new Uint8Array(2)));
  assert.ok(straddle instanceof FlashFaultError, "a write reaching into sector 1");
  assert.ok(caught(() => f.eraseSector(1)) instanceof FlashFaultError);
  assert.ok(
    caught(() => f.write(S, new Uint8Array(0))) instanceof FlashFaultError,
    "even an empty program at it",
  );
  f.write(2 * S, new Uint8Array(0)); // an empty program right after sector 1 touches sector 2 only
  assert.equal(f.bytes[S], 0xff, "the default tear is none: nothing changed");
  f.eraseSector(2);
  assert.ok(caught(() => f.eraseSector(3)) instanceof FlashFaultError);
  f.healSector(1);
  f.write(S - 1, new Uint8Array([0x00, 0x0e]));
  f.eraseSector(1);
  assert.ok(caught(() => f.eraseSector(3)) instanceof FlashFaultError, "healing 1 leaves 3 failing");
  assert.deepEqual(Array.from(f.sectorErases), [0, 1, 1, 0]);
});

/** Tears a program of `data` at `offset` of a fresh image (pre-filled with `fill` in the target). */
function tornProgram(
  how: "cut" | "fault",
  tear: TearMode,
  seed: number | undefined,
  data: Uint8Array,
  fill = 0xff,
): { bytes: number[]; changes: string[] } {
  const changes: string[] = [];
  const f = new NorImage({ size: 2 * S, sectorSize: S, onChange: (o, l) => changes.push(`${o}+${l}`) });
  f.bytes.fill(fill, 16, 16 + data.length);
  const plan = { atOperation: 0, tear, ...(seed === undefined ? {} : { seed }) };
  if (how === "cut") f.armPowerCut(plan);
  else f.armFault(plan);
  const e = caught(() => f.write(16, data));
  assert.ok(how === "cut" ? e instanceof PowerCutError : e instanceof FlashFaultError);
  assert.deepEqual(bytesAt(f, 0, 16), new Array(16).fill(0xff), "before the target: untouched");
  assert.deepEqual(bytesAt(f, 16 + data.length, 16), new Array(16).fill(0xff), "after it: untouched");
  assert.deepEqual([f.programOps, f.bytesProgrammed, f.operations], [0, 0, 1]);
  return { bytes: bytesAt(f, 16, data.length), changes };
}

test("program tears: none, prefix and tail leave exactly nothing, a prefix or a suffix of the data", () => {
  const data = new Uint8Array(6).map((_, i) => 0x10 + i);
  for (const how of ["cut", "fault"] as const) {
    const none = tornProgram(how, "none", 3, data);
    assert.deepEqual(none.bytes, new Array(6).fill(0xff));
    assert.deepEqual(none.changes, [], "an untouched target is not reported as changed");
    const prefixes = new Set<number>();
    const suffixes = new Set<number>();
    for (let seed = 1; seed <= 80; seed++) {
      const p = tornProgram(how, "prefix", seed, data);
      const n = p.bytes.indexOf(0xff) < 0 ? 6 : p.bytes.indexOf(0xff);
      assert.deepEqual(p.bytes, [...Array.from(data.subarray(0, n)), ...new Array(6 - n).fill(0xff)]);
      assert.deepEqual(p.changes, ["16+6"]);
      prefixes.add(n);
      const t = tornProgram(how, "tail", seed, data);
      const m = 6 - (t.bytes.lastIndexOf(0xff) + 1);
      assert.deepEqual(t.bytes, [...new Array(6 - m).fill(0xff), ...Array.from(data.subarray(6 - m))]);
      assert.deepEqual(t.changes, ["16+6"]);
      suffixes.add(m);
    }
    assert.deepEqual(
      [...prefixes].sort(),
      [0, 1, 2, 3, 4, 5, 6],
      `${how}: every prefix length, none and all included`,
    );
    assert.deepEqual([...suffixes].sort(), [0, 1, 2, 3, 4, 5, 6], `${how}: every suffix length`);
  }
});

test("program tears 'bits' and 'random' clear only bits the data clears, some of them, never all at once", () => {
  const data = new Uint8Array(32).map((_, i) => (i * 37) & 0xfe);
  for (const tear of ["bits", "random"] as const) {
    let partial = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const { bytes, changes } = tornProgram("fault", tear, seed, data, 0xff);
      assert.deepEqual(changes, ["16+32"]);
      for (let i = 0; i < 32; i++) {
        assert.equal(bytes[i]! & data[i]!, data[i], `${tear}: byte ${i} lost a bit the data keeps`);
        if (bytes[i] !== data[i] && bytes[i] !== 0xff) partial++;
      }
      differ(bytes, Array.from(data), `${tear}, seed ${seed}: the torn program completed`);
    }
    assert.ok(partial > 0, `${tear}: no byte half-programmed`);
  }
  // Over bytes already partly programmed, a torn program still only clears bits.
  const { bytes } = tornProgram("cut", "random", 7, new Uint8Array(8).fill(0x00), 0x3c);
  for (const b of bytes) assert.equal(b & ~0x3c & 0xff, 0, "a torn program set a bit");
});

test("a seed makes a tear reproducible; seed 0 or none means the default seed; different seeds differ", () => {
  const data = new Uint8Array(40);
  const a = tornProgram("cut", "bits", 12345, data).bytes;
  assert.deepEqual(tornProgram("cut", "bits", 12345, data).bytes, a);
  assert.deepEqual(tornProgram("cut", "bits", 12345 + 2 ** 32, data).bytes, a, "seeds are taken mod 2^32");
  differ(tornProgram("cut", "bits", 54321, data).bytes, a, "another seed, another tear");
  const dflt = tornProgram("cut", "bits", undefined, data).bytes;
  assert.deepEqual(tornProgram("cut", "bits", 0, data).bytes, dflt);
  assert.deepEqual(tornProgram("fault", "bits", 0, data).bytes, dflt, "a fault's seed 0 too");
  assert.deepEqual(tornProgram("fault", "bits", 12345, data).bytes, a, "a fault's seed seeds the same way");
  differ(a, dflt, "the default seed is not 12345");
  // A fault armed without a seed leaves the generator where it was.
  const f = image(2);
  f.armPowerCut({ atOperation: 5, tear: "none", seed: 12345 });
  f.armFault({ atOperation: 0, tear: "bits" });
  assert.ok(caught(() => f.write(16, data)) instanceof FlashFaultError);
  assert.deepEqual(bytesAt(f, 16, 40), a);
});

/** Tears an erase of sector 1 (of 3, all programmed to `fill`) and returns sector 1. */
function tornErase(how: "cut" | "fault", tear: TearMode, seed: number, fill = 0x00): number[] {
  const changes: string[] = [];
  const f = new NorImage({ size: 3 * S, sectorSize: S, onChange: (o, l) => changes.push(`${o}+${l}`) });
  f.bytes.fill(fill);
  const plan = { atOperation: 0, tear, seed };
  if (how === "cut") f.armPowerCut(plan);
  else f.armFault(plan);
  const e = caught(() => f.eraseSector(1));
  assert.ok(how === "cut" ? e instanceof PowerCutError : e instanceof FlashFaultError);
  assert.ok(
    f.bytes.subarray(0, S).every((b) => b === fill),
    "sector 0 untouched",
  );
  assert.ok(
    f.bytes.subarray(2 * S).every((b) => b === fill),
    "sector 2 untouched",
  );
  assert.deepEqual([f.erases, f.sectorErases[1], f.operations], [0, 0, 1]);
  assert.deepEqual(changes, tear === "none" ? [] : [`${S}+${S}`]);
  return bytesAt(f, S, S);
}

test("erase tears: none, prefix and tail reset nothing, the start or the end of the sector", () => {
  for (const how of ["cut", "fault"] as const) {
    assert.ok(
      tornErase(how, "none", 1).every((b) => b === 0),
      "none",
    );
    let shortPrefix = false;
    let longPrefix = false;
    let shortTail = false;
    let longTail = false;
    for (let seed = 1; seed <= 30; seed++) {
      const p = tornErase(how, "prefix", seed);
      const n = p.indexOf(0x00) < 0 ? S : p.indexOf(0x00);
      assert.deepEqual(p, [...new Array(n).fill(0xff), ...new Array(S - n).fill(0)], `prefix, seed ${seed}`);
      if (n < S / 2) shortPrefix = true;
      else longPrefix = true;
      const t = tornErase(how, "tail", seed);
      const m = S - (t.lastIndexOf(0x00) + 1);
      assert.deepEqual(t, [...new Array(S - m).fill(0), ...new Array(m).fill(0xff)], `tail, seed ${seed}`);
      if (m < S / 2) shortTail = true;
      else longTail = true;
    }
    assert.ok(shortPrefix && longPrefix && shortTail && longTail, `${how}: lengths spread over the sector`);
  }
});

test("erase tears 'bits' only set bits; 'random' leaves bytes of any value; neither finishes the erase", () => {
  for (const how of ["cut", "fault"] as const) {
    const bits = tornErase(how, "bits", 9, 0x81);
    assert.ok(
      bits.every((b) => (b & 0x81) === 0x81),
      "bits: a bit was cleared",
    );
    assert.ok(
      bits.some((b) => b !== 0xff),
      "bits: erase completed",
    );
    assert.ok(
      bits.some((b) => b !== 0x81),
      "bits: nothing set",
    );
    const random = tornErase(how, "random", 9, 0xff);
    assert.ok(
      random.some((b) => (b & 0x81) !== 0x81),
      "random: clears bits too",
    );
    assert.ok(new Set(random).size > 100, "random: bytes of many values");
  }
});

test("the tear kinds are exactly none, prefix, bits, random and tail", () => {
  assert.deepEqual([...TEAR_MODES], ["none", "prefix", "bits", "random", "tail"]);
});

test("a torn erase of a 4-byte sector resets every count of bytes 0..4 from its start or its end", () => {
  for (const tear of ["prefix", "tail"] as const) {
    for (const how of ["cut", "fault"] as const) {
      const seen = new Set<number>();
      for (let seed = 1; seed <= 80; seed++) {
        const f = new NorImage({ size: 12, sectorSize: 4 });
        f.bytes.fill(0);
        const plan = { atOperation: 0, tear, seed };
        if (how === "cut") f.armPowerCut(plan);
        else f.armFault(plan);
        caught(() => f.eraseSector(1));
        const sector = bytesAt(f, 4, 4);
        const n = sector.filter((b) => b === 0xff).length;
        const want = new Array(4).fill(0);
        if (tear === "prefix") want.fill(0xff, 0, n);
        else want.fill(0xff, 4 - n);
        assert.deepEqual(sector, want, `${tear}, ${how}, seed ${seed}`);
        assert.deepEqual([...bytesAt(f, 0, 4), ...bytesAt(f, 8, 4)], new Array(8).fill(0), "neighbours");
        seen.add(n);
      }
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4], `${tear}, ${how}`);
    }
  }
});

test("completed programs and erases are reported to onChange with their range", () => {
  const seen: string[] = [];
  const f = new NorImage({ size: 2 * S, sectorSize: S, onChange: (o, l) => seen.push(`${o}+${l}`) });
  f.write(7, new Uint8Array(3));
  f.eraseSector(1);
  f.read(0, new Uint8Array(4));
  assert.deepEqual(seen, ["7+3", `${S}+${S}`]);
});

test("a failing sector's default tear changes nothing and reports no change", () => {
  const seen: string[] = [];
  const f = new NorImage({ size: 2 * S, sectorSize: S, onChange: (o, l) => seen.push(`${o}+${l}`) });
  f.failSector(1);
  assert.ok(caught(() => f.write(S, new Uint8Array([0]))) instanceof FlashFaultError);
  assert.ok(caught(() => f.eraseSector(1)) instanceof FlashFaultError);
  assert.deepEqual(seen, []);
  assert.equal(f.bytes[S], 0xff);
});
