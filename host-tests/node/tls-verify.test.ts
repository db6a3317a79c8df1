// The device's certificate verifier (modules/tls, pure) against chains generated
// in the test: every case the simulator lane runs over real TLS, plus malformed
// input. The signature port is node:crypto (host/tls-signatures.ts).
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { NodeSignatureVerifier } from "../../host/tls-signatures";
import { AnchorList, type ChainResult, verifyServerChain } from "../../modules/tls/verify-chain";
import { HOST, makeTestPki, type TestPki } from "../support/tls-pki";

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});

function run(chain: Uint8Array[], host: string, now = Date.now()): ChainResult {
  return verifyServerChain(chain, {
    host,
    now,
    anchors: new AnchorList([pki.root]),
    signatures: new NodeSignatureVerifier(),
  });
}

test("tls verifier: every generated case is accepted or refused by the named check", () => {
  let bad = 0;
  let good = 0;
  for (const c of pki.cases) {
    const result = run(c.chain, c.host);
    if (c.expect === "accept") {
      assert.ok(result.ok, `${c.name}: refused (${result.ok ? "" : `${result.check}: ${result.detail}`})`);
      if (result.ok)
        assert.deepEqual(
          result.leaf.der,
          c.chain[0],
          `${c.name}: the verified leaf is the first certificate`,
        );
      good++;
    } else {
      assert.ok(!result.ok, `${c.name}: accepted`);
      if (!result.ok) assert.equal(result.check, c.expect, `${c.name}: ${result.detail}`);
      bad++;
    }
  }
  assert.ok(bad >= 13 && good >= 4, `cases: ${bad} bad, ${good} good`);
});

test("tls verifier: nothing is trusted without an anchor, and dates follow the clock", () => {
  const good = pki.cases.find((c) => c.expect === "accept")!;
  const noAnchors = verifyServerChain(good.chain, {
    host: HOST,
    now: Date.now(),
    anchors: new AnchorList([]),
    signatures: new NodeSignatureVerifier(),
  });
  assert.equal(noAnchors.ok ? "accepted" : noAnchors.check, "untrusted");
  const later = run(good.chain, HOST, Date.now() + 365 * 86_400_000);
  assert.equal(later.ok ? "accepted" : later.check, "expired");
  const unsetClock = run(good.chain, HOST, Number.NaN);
  assert.equal(unsetClock.ok ? "accepted" : unsetClock.check, "not-yet-valid");
});

test("tls verifier: truncated, garbage and empty certificate messages are refused as malformed", () => {
  const good = pki.cases.find((c) => c.expect === "accept")!;
  const leaf = good.chain[0]!;
  for (let cut = 1; cut < leaf.length; cut += 7) {
    const result = run([leaf.subarray(0, cut), ...good.chain.slice(1)], HOST);
    assert.equal(result.ok ? "accepted" : result.check, "malformed", `leaf cut at ${cut}`);
  }
  const garbage = new Uint8Array(300).map((_, i) => (i * 73 + 11) & 0xff);
  assert.equal((run([garbage], HOST) as { check: string }).check, "malformed");
  assert.equal((run([], HOST) as { check: string }).check, "empty");
  // One flipped bit anywhere in the signed part breaks the signature (or the encoding).
  const flipped = new Uint8Array(leaf);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
  const result = run([flipped, ...good.chain.slice(1)], HOST);
  assert.ok(!result.ok, "a modified leaf is refused");
});
