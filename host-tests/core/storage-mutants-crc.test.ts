// CRC-32 over every short length at every alignment, against a bit-at-a-time
// reference: the slicing-by-8 loop and the byte loop must agree with it
// wherever one hands over to the other, inside a larger buffer whose other
// bytes must never count, and through a subarray (a DataView over a buffer
// that starts elsewhere).

import { crc32, crc32Finish, crc32Start, crc32Update, setNativeCrc32 } from "../../modules/storage/crc32";
import { assert, test } from "../harness/index";

/** The textbook CRC-32 (reflected 0xEDB88320, init and final XOR all ones), one bit at a time. */
function reference(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function patterned(length: number, seed: number): Uint8Array {
  const b = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

test("CRC-32 of the check string and of every byte value alone matches the standard", () => {
  assert.equal(crc32(new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39])), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const one = new Uint8Array(1);
  for (let v = 0; v < 256; v++) {
    one[0] = v;
    assert.equal(crc32(one), reference(one, 0, 1), `byte ${v}`);
  }
  // Every entry of the eight tables is reached by 8-byte words of one set byte.
  const word = new Uint8Array(16);
  for (let at = 0; at < 16; at++) {
    for (let v = 1; v < 256; v++) {
      word.fill(0);
      word[at] = v;
      assert.equal(crc32(word), reference(word, 0, 16), `byte ${v} at ${at} of 16`);
    }
  }
});

test("CRC-32 over lengths 0..40 at every start 0..9 of a larger buffer matches the reference", () => {
  const bytes = patterned(64, 0x1234567);
  for (let start = 0; start <= 9; start++) {
    for (let length = 0; length <= 40; length++) {
      const end = start + length;
      assert.equal(crc32(bytes, start, end), reference(bytes, start, end), `[${start}, ${end})`);
    }
  }
});

test("CRC-32 through a subarray that starts inside its buffer, and alternating between buffers", () => {
  const backing = patterned(96, 0xbeef);
  for (let offset = 1; offset <= 8; offset++) {
    const view = backing.subarray(offset, offset + 80);
    const copy = view.slice();
    for (const [start, end] of [
      [0, 16],
      [0, 17],
      [3, 40],
      [5, 80],
      [1, 23],
    ] as const) {
      const want = reference(copy, start, end);
      assert.equal(crc32(view, start, end), want, `subarray at ${offset}: [${start}, ${end})`);
      assert.equal(crc32(copy, start, end), want, `copy: [${start}, ${end})`);
      assert.equal(crc32(view, start, end), want, `subarray again: [${start}, ${end})`);
    }
  }
  // Same length, different contents: the second buffer's own bytes count.
  const a = patterned(32, 1);
  const b = patterned(32, 2);
  assert.equal(crc32(a), reference(a, 0, 32));
  assert.equal(crc32(b), reference(b, 0, 32));
  assert.notEqual(crc32(a), crc32(b));
});

test("a CRC chained over split ranges equals the CRC of the whole, wherever the split", () => {
  const bytes = patterned(48, 77);
  const whole = reference(bytes, 0, 48);
  for (let split = 0; split <= 48; split++) {
    const c = crc32Update(crc32Update(crc32Start(), bytes, 0, split), bytes, split, 48);
    assert.equal(crc32Finish(c), whole, `split at ${split}`);
  }
});

test("the native CRC hook is not used for a short range that starts far into the buffer", () => {
  const bytes = patterned(64, 5);
  const calls: number[][] = [];
  setNativeCrc32((crc, _b, start, end) => {
    calls.push([start, end]);
    return crc;
  });
  try {
    assert.equal(crc32(bytes, 20, 35), reference(bytes, 20, 35), "15 bytes at 20 stay in JavaScript");
    assert.equal(crc32(bytes, 40, 48), reference(bytes, 40, 48), "8 bytes at 40 stay in JavaScript");
    assert.deepEqual(calls, []);
  } finally {
    setNativeCrc32(undefined);
  }
});
