// Chain verification (modules/tls/verify-chain.ts) in both lanes — in the XS
// engine too — over real DER certificates with a toy signature
// (../support/toy-pki.ts): every case the simulator lane runs over real TLS.
import { parseCertificate } from "../../modules/tls/certificate";
import { DerReader } from "../../modules/tls/der";
import { dnsNameMatches } from "../../modules/tls/host-name";
import { AnchorList, type ChainResult, verifyServerChain } from "../../modules/tls/verify-chain";
import { assert, test } from "../harness/index";
import { type ToyCertOptions, ToySignatures, toyCertificate, toyKey } from "../support/toy-pki";

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const DAY = 86_400_000;
const HOST = "cloud.capsync.test";

function pki() {
  const rootKey = toyKey();
  const intermediateKey = toyKey();
  const valid = { from: NOW - DAY, to: NOW + 30 * DAY };
  const root = toyCertificate({ subject: "Root R", key: rootKey, signer: rootKey, ca: true, ...valid });
  const intermediate = toyCertificate({
    subject: "Intermediate I",
    issuer: "Root R",
    key: intermediateKey,
    signer: rootKey,
    ca: true,
    ...valid,
  });
  const leaf = (o: Partial<ToyCertOptions> = {}) =>
    toyCertificate({
      subject: HOST,
      issuer: "Intermediate I",
      key: toyKey(),
      signer: intermediateKey,
      dns: [HOST],
      ...valid,
      ...o,
    });
  return { root, rootKey, intermediate, intermediateKey, leaf, valid };
}

function verify(chain: Uint8Array[], anchors: Uint8Array[], host = HOST, now = NOW): ChainResult {
  return verifyServerChain(chain, {
    host,
    now,
    anchors: new AnchorList(anchors),
    signatures: new ToySignatures(),
  });
}

function outcome(result: ChainResult): string {
  return result.ok ? "accept" : result.check;
}

test("tls chain: good chains are accepted and the verified leaf is the first certificate", () => {
  const p = pki();
  const leaf = p.leaf();
  const result = verify([leaf, p.intermediate], [p.root]);
  assert.equal(outcome(result), "accept");
  assert.ok(result.ok && result.leaf.der === leaf && result.length === 2);
  assert.equal(outcome(verify([leaf, p.intermediate, p.root], [p.root])), "accept", "root sent too");
  assert.equal(outcome(verify([p.intermediate, leaf].reverse(), [p.root])), "accept");
  const wildcard = p.leaf({ subject: "*.example.com", dns: ["*.example.com"] });
  assert.equal(outcome(verify([wildcard, p.intermediate], [p.root], "a.example.com")), "accept");
  assert.equal(
    outcome(verify([wildcard, p.intermediate], [p.root], "A.Example.COM.")),
    "accept",
    "case, trailing dot",
  );
});

test("tls chain: every bad chain is refused by the check that names its fault", () => {
  const p = pki();
  const { root, intermediate, intermediateKey, valid } = p;
  const cases: [string, Uint8Array[], string, string?][] = [
    [
      "wrong host",
      [p.leaf({ subject: "other.example.org", dns: ["other.example.org"] }), intermediate],
      "host-name",
    ],
    [
      "*.example.com for a.b.example.com",
      [p.leaf({ dns: ["*.example.com"] }), intermediate],
      "host-name",
      "a.b.example.com",
    ],
    [
      "*.example.com for example.com",
      [p.leaf({ dns: ["*.example.com"] }), intermediate],
      "host-name",
      "example.com",
    ],
    ["no SAN (CN only)", [p.leaf({ dns: undefined }), intermediate], "host-name"],
    ["expired", [p.leaf({ from: NOW - 30 * DAY, to: NOW - DAY }), intermediate], "expired"],
    ["not yet valid", [p.leaf({ from: NOW + DAY, to: NOW + 30 * DAY }), intermediate], "not-yet-valid"],
    [
      "expired intermediate",
      [
        p.leaf(),
        toyCertificate({
          subject: "Intermediate I",
          issuer: "Root R",
          key: intermediateKey,
          signer: p.rootKey,
          ca: true,
          from: NOW - 30 * DAY,
          to: NOW - DAY,
        }),
      ],
      "expired",
    ],
  ];
  const selfKey = toyKey();
  cases.push([
    "self-signed leaf",
    [toyCertificate({ subject: HOST, key: selfKey, signer: selfKey, dns: [HOST], ...valid })],
    "untrusted",
  ]);
  const uKey = toyKey();
  const uRoot = toyCertificate({ subject: "Root U", key: uKey, signer: uKey, ca: true, ...valid });
  const uLeaf = p.leaf({ issuer: "Root U", signer: uKey });
  cases.push(["untrusted root", [uLeaf, uRoot], "untrusted"]);
  const fakeRootKey = toyKey();
  const fakeIntermediate = toyCertificate({
    subject: "Intermediate I",
    issuer: "Root R",
    key: toyKey(),
    signer: fakeRootKey,
    ca: true,
    ...valid,
  });
  cases.push(["root copied by name", [p.leaf(), fakeIntermediate], "signature"]);
  const forgedKey = toyKey();
  const forged = toyCertificate({ subject: HOST, key: forgedKey, signer: forgedKey, dns: [HOST], ...valid });
  cases.push(["forged leaf + intermediate", [forged, intermediate], "untrusted"]);
  cases.push(["forged leaf + intermediate + root", [forged, intermediate, root], "untrusted"]);
  cases.push(["forged leaf + root", [forged, root], "untrusted"]);
  const forgedNamed = toyCertificate({
    subject: HOST,
    issuer: "Intermediate I",
    key: forgedKey,
    signer: forgedKey,
    dns: [HOST],
    ...valid,
  });
  cases.push(["forged leaf naming the intermediate", [forgedNamed, intermediate, root], "signature"]);
  const forgedUnderRoot = toyCertificate({
    subject: HOST,
    issuer: "Root R",
    key: forgedKey,
    signer: forgedKey,
    dns: [HOST],
    ...valid,
  });
  cases.push(["forged leaf naming the root", [forgedUnderRoot, root], "signature"]);
  const shopKey = toyKey();
  const shop = toyCertificate({
    subject: "shop.example.net",
    issuer: "Intermediate I",
    key: shopKey,
    signer: intermediateKey,
    noConstraints: true,
    ...valid,
  });
  cases.push([
    "issuer is not a CA",
    [p.leaf({ issuer: "shop.example.net", signer: shopKey }), shop, intermediate],
    "not-a-ca",
  ]);
  const leafAsCa = toyCertificate({
    subject: "shop2",
    issuer: "Intermediate I",
    key: shopKey,
    signer: intermediateKey,
    ca: false,
    ...valid,
  });
  cases.push([
    "issuer with cA false",
    [p.leaf({ issuer: "shop2", signer: shopKey }), leafAsCa, intermediate],
    "not-a-ca",
  ]);
  const noCertSign = toyCertificate({
    subject: "signer",
    issuer: "Intermediate I",
    key: shopKey,
    signer: intermediateKey,
    ca: true,
    keyUsage: 1,
    ...valid,
  });
  cases.push([
    "issuer without keyCertSign",
    [p.leaf({ issuer: "signer", signer: shopKey }), noCertSign, intermediate],
    "key-usage",
  ]);
  const zeroPathRootKey = toyKey();
  const zeroPath = toyCertificate({
    subject: "Root Z",
    key: zeroPathRootKey,
    signer: zeroPathRootKey,
    ca: true,
    pathLen: 0,
    ...valid,
  });
  const underZero = toyCertificate({
    subject: "Intermediate Z",
    issuer: "Root Z",
    key: intermediateKey,
    signer: zeroPathRootKey,
    ca: true,
    ...valid,
  });
  cases.push([
    "root pathLen 0 with an intermediate",
    [p.leaf({ issuer: "Intermediate Z" }), underZero],
    "path-length",
  ]);
  const pathKey = toyKey();
  const pathZeroIntermediate = toyCertificate({
    subject: "Intermediate P0",
    issuer: "Intermediate I",
    key: pathKey,
    signer: intermediateKey,
    ca: true,
    pathLen: 0,
    ...valid,
  });
  const belowKey = toyKey();
  const below = toyCertificate({
    subject: "Below P0",
    issuer: "Intermediate P0",
    key: belowKey,
    signer: pathKey,
    ca: true,
    ...valid,
  });
  cases.push([
    "intermediate pathLen 0 with one below",
    [p.leaf({ issuer: "Below P0", signer: belowKey }), below, pathZeroIntermediate, intermediate],
    "path-length",
  ]);
  const sanIntermediate = toyCertificate({
    subject: "Intermediate S",
    issuer: "Root R",
    key: intermediateKey,
    signer: p.rootKey,
    ca: true,
    dns: [HOST],
    ...valid,
  });
  cases.push([
    "wrong-host leaf under an intermediate whose SAN names the host",
    [p.leaf({ issuer: "Intermediate S", dns: ["other.example.org"] }), sanIntermediate],
    "host-name",
  ]);
  cases.push(["unknown critical extension", [p.leaf({ critical: "1.2.3.4" }), intermediate], "malformed"]);
  cases.push(["empty", [], "empty"]);

  let refused = 0;
  for (const [label, chain, expected, host] of cases) {
    const result = verify(chain, [root, zeroPath], host ?? HOST);
    assert.equal(outcome(result), expected, `${label}: ${result.ok ? "accepted" : result.detail}`);
    refused++;
  }
  assert.equal(refused, cases.length);
});

test("tls chain: truncated or corrupted certificates are refused as malformed, never accepted", () => {
  const p = pki();
  const leaf = p.leaf();
  for (let cut = 0; cut < leaf.length; cut++) {
    const result = verify([leaf.subarray(0, cut), p.intermediate], [p.root]);
    assert.equal(outcome(result), "malformed", `cut at ${cut}`);
  }
  for (let at = 0; at < leaf.length; at++) {
    const changed = new Uint8Array(leaf);
    changed[at]! ^= 0x20;
    const result = verify([changed, p.intermediate], [p.root]);
    assert.ok(!result.ok, `byte ${at} changed: accepted`);
  }
  assert.equal(parseCertificate(leaf).dnsNames[0], HOST);
});

test("tls der: lengths are bounded by their container; long forms must be minimal", () => {
  assert.throws(() => new DerReader(new Uint8Array([0x30, 0x05, 0x01])).next(), /runs past/);
  assert.throws(
    () => new DerReader(new Uint8Array([0x30, 0x03, 0x02, 0x05, 0x00]), 0, 5).enter(0x30).next(),
    /runs past/,
  );
  assert.throws(() => new DerReader(new Uint8Array([0x04, 0x81, 0x05, 1, 2, 3, 4, 5])).next(), /non-minimal/);
  assert.throws(() => new DerReader(new Uint8Array([0x04, 0x80, 0x00, 0x00])).next(), /indefinite/);
  const ok = new DerReader(new Uint8Array([0x04, 0x02, 7, 8])).next(0x04);
  assert.equal(ok.end, 4);
});

test("tls names: wildcards only as a whole left-most label matching one label", () => {
  const yes: [string, string][] = [
    ["app.viam.com", "app.viam.com"],
    ["*.viam.com", "app.viam.com"],
    ["APP.viam.com", "app.viam.com"],
  ];
  const no: [string, string][] = [
    ["*.viam.com", "a.b.viam.com"],
    ["*.viam.com", "viam.com"],
    ["*.com", "viam.com"],
    ["a*.viam.com", "ab.viam.com"],
    ["*a.viam.com", "ba.viam.com"],
    ["app.*.com", "app.viam.com"],
    ["*.*.com", "a.b.com"],
    ["*", "localhost"],
    ["", "app.viam.com"],
    ["app.viam.com", "app.viam.com.evil.net"],
  ];
  for (const [pattern, host] of yes) assert.ok(dnsNameMatches(pattern, host), `${pattern} ~ ${host}`);
  for (const [pattern, host] of no) assert.ok(!dnsNameMatches(pattern, host), `${pattern} !~ ${host}`);
});
