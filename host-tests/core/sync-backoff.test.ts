import { TransportError } from "../../modules/ports";
import { Code, RpcError } from "../../modules/rpc/status";
import { BACKOFF_CAP_MS, Backoff } from "../../modules/sync/backoff";
import { classifyFailure } from "../../modules/sync/failure";
import { assert, test } from "../harness/index";
import { Random } from "../harness/random";

test("backoff: 200 ms doubling up to one hour, then hourly forever", () => {
  const backoff = new Backoff({ jitter: 0 });
  const waits: number[] = [];
  for (let i = 0; i < 40; i++) waits.push(backoff.fail());
  assert.equal(waits[0], 200);
  assert.equal(waits[1], 400);
  // 200 · 2^14 = 3 276 800 ms is the last step below the cap.
  assert.equal(waits[14], 3_276_800);
  assert.equal(waits[15], BACKOFF_CAP_MS);
  for (let i = 1; i < 15; i++) assert.equal(waits[i], waits[i - 1]! * 2, `step ${i}`);
  for (let i = 15; i < 40; i++) assert.equal(waits[i], 3_600_000, `capped step ${i}`);
  assert.equal(backoff.nominalMs(1_000_000), 3_600_000, "no overflow for huge failure counts");
});

test("backoff: jitter only shortens, by less than 10%, and varies", () => {
  const random = new Random(7);
  const backoff = new Backoff({ random: () => random.float() });
  const seen = new Set<number>();
  for (let n = 1; n <= 30; n++) {
    const wait = backoff.fail();
    const nominal = backoff.nominalMs(n);
    assert.ok(wait <= nominal && wait > nominal * 0.9, `wait ${wait} for nominal ${nominal}`);
    seen.add(wait / nominal);
  }
  assert.ok(seen.size > 20, "jitter differs between tries");
});

test("backoff: a success resets to the first interval", () => {
  const backoff = new Backoff({ jitter: 0 });
  for (let i = 0; i < 20; i++) backoff.fail();
  assert.equal(backoff.currentMs, 3_600_000);
  backoff.succeed();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.currentMs, 0);
  assert.equal(backoff.fail(), 200);
});

test("backoff: nonsensical options are refused with a clear error", () => {
  assert.throws(() => new Backoff({ firstMs: 0 }), "firstMs");
  assert.throws(() => new Backoff({ factor: 0.5 }), "factor");
  assert.throws(() => new Backoff({ firstMs: 10, capMs: 5 }), "capMs");
  assert.throws(() => new Backoff({ jitter: 1 }), "jitter");
});

test("failure classes: content rejections narrowed, too-large requests shrunk, everything else retried", () => {
  assert.equal(classifyFailure(new RpcError(Code.INVALID_ARGUMENT, "x")).kind, "rejected");
  assert.equal(classifyFailure(new RpcError(Code.OUT_OF_RANGE, "x")).kind, "rejected");
  // RESOURCE_EXHAUSTED and HTTP 413 are about the request's size: never "temporary at the same size".
  assert.equal(classifyFailure(new RpcError(Code.RESOURCE_EXHAUSTED, "x")).kind, "too-large");
  const http413 = classifyFailure(new RpcError(Code.UNKNOWN, "HTTP 413", undefined, 413));
  assert.equal(http413.kind, "too-large");
  assert.equal(http413.code, Code.UNKNOWN);
  assert.equal(classifyFailure(new RpcError(Code.UNAVAILABLE, "HTTP 503", undefined, 503)).kind, "transient");
  // A response too large for the device (transport-level) says nothing about the request.
  assert.equal(classifyFailure(new RpcError(Code.RESOURCE_EXHAUSTED, "big", "too-large")).kind, "transient");
  assert.equal(classifyFailure(new RpcError(Code.INVALID_ARGUMENT, "x", "protocol")).kind, "transient");
  const reason = classifyFailure(new RpcError(Code.INTERNAL, "boom", "protocol")).reason;
  assert.ok(reason.includes("boom") && reason.includes("(protocol)"), reason);
  for (const code of [
    Code.UNAVAILABLE,
    Code.INTERNAL,
    Code.DEADLINE_EXCEEDED,
    Code.UNAUTHENTICATED,
    Code.PERMISSION_DENIED,
    Code.UNIMPLEMENTED,
    Code.UNKNOWN,
  ]) {
    assert.equal(classifyFailure(new RpcError(code, "x")).kind, "transient", `code ${code}`);
  }
  const timeout = classifyFailure(new TransportError("timeout", "slow"));
  assert.equal(timeout.kind, "transient");
  assert.equal(timeout.code, Code.DEADLINE_EXCEEDED);
  assert.equal(classifyFailure(new TransportError("refused", "no")).code, Code.UNAVAILABLE);
  assert.equal(classifyFailure("weird").kind, "transient");
});
