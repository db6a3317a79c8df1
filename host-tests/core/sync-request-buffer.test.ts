// The upload request is built in one fixed buffer sized once from the bounded budget: it never grows
// (no doubling, no second buffer alive while it grows), a record that would cross its end waits for the
// next request, and one that cannot fit even alone is set aside as oversized (counted, never "undecodable").
import { MAX_REQUEST_BUDGET_BYTES, requestBufferBytes } from "../../modules/proto/upload";
import { ProtoWriter, WriterFullError } from "../../modules/proto/writer";
import { SyncService } from "../../modules/sync/sync-service";
import type { SyncTarget, UploadSender } from "../../modules/sync/target";
import { assert, test } from "../harness/index";
import { FakeClock } from "../support/fake-clock";
import { MemoryRing } from "../support/memory-store";
import { binaryTarget, idRecord, ScriptedCloud } from "../support/sync-fakes";

test("fixed writer: a write that does not fit throws WriterFullError, writes nothing, never grows", () => {
  const w = new ProtoWriter(16, { fixed: true });
  w.bytes(1, new Uint8Array(10)); // 12 bytes
  const pos = w.pos;
  let thrown: unknown;
  try {
    w.bytes(2, new Uint8Array(10));
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof WriterFullError, "WriterFullError");
  assert.ok(w.overflowed, "the writer remembers it refused a write");
  assert.equal(w.capacity, 16);
  // The tag and length went in before the payload was refused: the caller rolls back to `pos`.
  w.pos = pos;
  w.overflowed = false;
  w.uint(3, 1); // 2 bytes still fit
  assert.equal(w.pos, 14);
  // A 1-byte varint near the end is not refused because 10 bytes are not left.
  w.varint(5);
  w.varint(6);
  assert.equal(w.pos, 16);
  assert.equal(w.capacity, 16);
  w.reset();
  assert.equal(w.overflowed, false);
});

test("growable writer: still grows (host tools), fixed one only changes size through resize", () => {
  const grow = new ProtoWriter(4);
  grow.bytes(1, new Uint8Array(100));
  assert.ok(grow.capacity >= 102);
  const fixed = new ProtoWriter(8, { fixed: true });
  fixed.resize(64);
  assert.equal(fixed.capacity, 64);
  fixed.bytes(1, new Uint8Array(60));
  assert.equal(fixed.pos, 62);
});

test("request buffer size: frame room + metadata field + SensorData room, bounded by the device maximum", () => {
  assert.equal(requestBufferBytes(16 * 1024, 40), 5 + 1 + 1 + 40 + 16 * 1024);
  assert.equal(requestBufferBytes(1 << 30, 0), 5 + 1 + 1 + MAX_REQUEST_BUDGET_BYTES);
  assert.equal(requestBufferBytes(0, 0), 5 + 1 + 1 + 1);
});

/** Records every request body's backing buffer (the sync service builds requests in its one writer). */
class BufferWatcher implements UploadSender {
  readonly inner = new ScriptedCloud();
  readonly buffers = new Set<ArrayBufferLike>();
  readonly sizes: number[] = [];
  async send(body: Uint8Array): Promise<void> {
    this.buffers.add(body.buffer);
    this.sizes.push(body.buffer.byteLength);
    await this.inner.send(body);
  }
}

function service(sender: UploadSender, budget: number, maxRequest: number) {
  const clock = new FakeClock();
  return new SyncService({
    sender,
    clock,
    timers: clock,
    log: { info() {}, warn() {}, error() {} },
    settings: { requestBudgetBytes: budget, maxRequestBytes: maxRequest },
    backoff: { jitter: 0 },
  });
}

test("sync: one request buffer of the bounded size for a whole backlog, however large", async () => {
  const sender = new BufferWatcher();
  const sync = service(sender, 1024, 2048);
  const ring = new MemoryRing("a");
  for (let i = 1; i <= 2000; i++) ring.push(idRecord(i, 20 + (i % 50)));
  const target: SyncTarget = binaryTarget(ring);
  sync.setTargets([target]);
  const result = await sync.syncNow();
  assert.ok(result.ok);
  assert.equal(ring.counters().pending, 0);
  assert.ok(sender.inner.stored.length > 50, "many requests");
  assert.equal(sender.buffers.size, 1, "every request was built in the same buffer");
  assert.equal(sender.sizes[0], requestBufferBytes(2048, target.metadata().length));
  for (const r of sender.inner.stored) assert.ok(r.bytes <= 1024 + 80, `request of ${r.bytes} bytes`);
});

test("sync: a record larger than the whole request buffer is set aside as oversized, its neighbours go", async () => {
  const sender = new BufferWatcher();
  const sync = service(sender, 256, 512);
  const ring = new MemoryRing("big");
  ring.push(idRecord(1, 20), idRecord(2, 400), idRecord(3, 900), idRecord(4, 20));
  sync.setTargets([binaryTarget(ring)]);
  const result = await sync.syncNow();
  assert.ok(result.ok);
  assert.deepEqual(
    sender.inner.stored.map((r) => r.ids),
    [[1], [2], [4]],
  );
  const counters = sync.status().collectors.big!;
  assert.equal(counters.oversized, 1);
  assert.equal(counters.undecodable, 0);
  assert.equal(sender.buffers.size, 1);
});
