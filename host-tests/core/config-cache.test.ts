// The cached machine config (modules/app/config-cache.ts): two slots written
// alternately, the newer intact one wins, and a load reads and checks only
// the payload that wins when it is intact (a deep-sleep wake loads it every time).

import { FlashConfigCache } from "../../modules/app/config-cache";
import { NorImage } from "../../modules/storage/nor-image";
import { assert, test } from "../harness/index";

const SECTOR = 4096;
const HEADER = 16;

function cacheOf(): { flash: NorImage; cache: FlashConfigCache } {
  const flash = new NorImage({ size: 2 * SECTOR, sectorSize: SECTOR });
  return { flash, cache: new FlashConfigCache(flash) };
}

const textA = JSON.stringify({ revision: "a", config: { components: [] } });
const textB = JSON.stringify({ revision: "b", config: { components: [{ name: "ü-sensor" }] } });

test("config cache: saves alternate slots and the newest text loads, also from a fresh instance", () => {
  const { flash, cache } = cacheOf();
  assert.equal(cache.load(), undefined);
  cache.save(textA);
  cache.save(textB);
  assert.equal(new FlashConfigCache(flash).load(), textB);
  cache.save(textA);
  assert.equal(new FlashConfigCache(flash).load(), textA);
});

test("config cache: a load reads only the newer payload when it is intact", () => {
  const { flash, cache } = cacheOf();
  cache.save(textA);
  cache.save(textB);
  flash.resetCounters();
  const fresh = new FlashConfigCache(flash);
  assert.equal(fresh.load(), textB);
  const utf8B = new TextEncoder().encode(textB).length;
  assert.equal(
    flash.bytesRead,
    2 * HEADER + utf8B,
    "two headers and the newer payload, nothing of the older",
  );
  assert.equal(fresh.corruptSlots, 0);
});

test("config cache: a newer payload that fails its CRC falls back to the older slot, counted", () => {
  const { flash, cache } = cacheOf();
  cache.save(textA); // slot 0
  cache.save(textB); // slot 1
  flash.bytes[SECTOR + HEADER + 3]! ^= 0x01;
  const fresh = new FlashConfigCache(flash);
  assert.equal(fresh.load(), textA);
  assert.equal(fresh.corruptSlots, 1);
  // The next save goes over the damaged slot, never over the one that loaded.
  fresh.save(textB);
  assert.equal(new FlashConfigCache(flash).load(), textB);
  flash.bytes[SECTOR + HEADER + 3]! ^= 0x01; // whatever slot 1 holds now, slot 0 still holds A
  const again = new FlashConfigCache(flash);
  again.load();
  assert.ok(again.corruptSlots <= 1);
});

test("config cache: a torn save (payload programmed, header still erased) leaves the previous config", () => {
  const { flash, cache } = cacheOf();
  cache.save(textA);
  cache.save(textB);
  // Erase slot 1's header only: as if the cut came between the payload and the header programs.
  flash.bytes.fill(0xff, SECTOR, SECTOR + HEADER);
  const fresh = new FlashConfigCache(flash);
  assert.equal(fresh.load(), textA);
  assert.equal(fresh.corruptSlots, 0, "an erased header is an unwritten slot, not damage");
});

test("config cache: damaged headers (foreign magic, impossible length or generation) are skipped and counted", () => {
  for (const [offset, value] of [
    [0, 0x12],
    [8, 0xee],
    [4, 0x00],
  ] as const) {
    const { flash, cache } = cacheOf();
    cache.save(textA); // slot 0
    cache.save(textB); // slot 1
    const view = new DataView(flash.bytes.buffer, SECTOR, HEADER);
    if (offset === 4) view.setUint32(4, 0, true);
    else if (offset === 8) view.setUint32(8, 0xeeeeee, true);
    else flash.bytes[SECTOR + offset] = value;
    const fresh = new FlashConfigCache(flash);
    assert.equal(fresh.load(), textA, `header byte ${offset}`);
    assert.equal(fresh.corruptSlots, 1, `header byte ${offset}`);
  }
});

test("config cache: both slots damaged load as no config, with both counted", () => {
  const { flash, cache } = cacheOf();
  cache.save(textA);
  cache.save(textB);
  flash.bytes[HEADER + 1]! ^= 0x40;
  flash.bytes[SECTOR + HEADER + 1]! ^= 0x40;
  const fresh = new FlashConfigCache(flash);
  assert.equal(fresh.load(), undefined);
  assert.equal(fresh.corruptSlots, 2);
});
