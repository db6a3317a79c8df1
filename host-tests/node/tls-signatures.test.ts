// The exact-encoding checks the device's signature port relies on
// (modules/tls/signature-encoding.ts) and the ServerKeyExchange split
// (modules/tls/server-key-exchange.ts), against node:crypto.
import assert from "node:assert/strict";
import { constants, createHash, generateKeyPairSync, publicDecrypt, sign } from "node:crypto";
import { test } from "node:test";
import { KeyExchangeError, readSignedParams, signedData } from "../../modules/tls/server-key-exchange";
import { parseEcdsaSignature, pkcs1v15Block } from "../../modules/tls/signature-encoding";

test("tls signatures: the PKCS#1 v1.5 block equals what an RSA signature decrypts to, for each hash", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  for (const [hash, node] of [
    ["SHA256", "sha256"],
    ["SHA384", "sha384"],
    ["SHA512", "sha512"],
  ] as const) {
    const message = Buffer.from(`message for ${hash}`);
    const signature = sign(node, message, privateKey);
    const opened = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
    const block = pkcs1v15Block(hash, createHash(node).update(message).digest(), 256);
    assert.ok(block, hash);
    assert.deepEqual(Buffer.from(block), opened, hash);
    // Another hash's block, or another message's, differs.
    const other = pkcs1v15Block(hash, createHash(node).update("other").digest(), 256)!;
    assert.notDeepEqual(Buffer.from(other), opened);
  }
  assert.equal(pkcs1v15Block("SHA256", new Uint8Array(31), 256), undefined, "wrong digest length");
  assert.equal(pkcs1v15Block("SHA512", new Uint8Array(64), 64), undefined, "modulus too small");
});

test("tls signatures: ECDSA signatures parse strictly; zero, negative and padded integers are refused", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = sign("sha256", Buffer.from("m"), { key: privateKey, dsaEncoding: "der" });
  const { r, s } = parseEcdsaSignature(der);
  const raw = sign("sha256", Buffer.from("m"), { key: privateKey, dsaEncoding: "ieee-p1363" });
  assert.ok(r.length <= 32 && s.length <= 32 && r.length > 0);
  // r and s are the big-endian integers (sign("...") is randomised, so compare shapes, not values).
  assert.equal(raw.length, 64);
  const bad = [
    [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01], // r = 0
    [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00], // s = 0
    [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01], // negative r
    [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], // non-minimal r
    [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00], // trailing byte
    [0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01], // truncated
  ];
  for (const bytes of bad) assert.throws(() => parseEcdsaSignature(new Uint8Array(bytes)), `${bytes}`);
});

function ecdheMessage(hash: number, sig: number, signature: Uint8Array): Uint8Array {
  const point = new Uint8Array(65).fill(4);
  return new Uint8Array([
    3,
    0,
    23,
    65,
    ...point,
    hash,
    sig,
    signature.length >> 8,
    signature.length & 0xff,
    ...signature,
  ]);
}

test("tls key exchange: signed parameters split; unsigned, weak, mismatched or mis-sized signatures refused", () => {
  const sig = new Uint8Array(70).fill(9);
  const ok = readSignedParams("ecdhe", ecdheMessage(4, 3, sig), "ecdsa");
  assert.equal(ok.hash, "SHA256");
  assert.equal(ok.key, "ecdsa");
  assert.equal(ok.params.length, 69);
  assert.equal(ok.algorithmOffset, 69);
  assert.deepEqual(ok.signature, sig);
  const data = signedData(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), ok.params);
  assert.equal(data.length, 64 + 69);
  assert.equal(data[0], 1);
  assert.equal(data[32], 2);
  assert.equal(data[64], 3);

  const refused: [string, Uint8Array, "rsa" | "ecdsa" | undefined][] = [
    ["hash none", ecdheMessage(0, 3, sig), "ecdsa"],
    ["anonymous", ecdheMessage(4, 0, sig), "ecdsa"],
    ["MD5", ecdheMessage(1, 1, sig), "rsa"],
    ["SHA-1", ecdheMessage(2, 1, sig), "rsa"],
    ["RSA signature for an ECDSA certificate", ecdheMessage(4, 1, sig), "ecdsa"],
    ["no verified certificate", ecdheMessage(4, 3, sig), undefined],
    ["empty signature", ecdheMessage(4, 3, new Uint8Array(0)), "ecdsa"],
    ["explicit curve", new Uint8Array([1, 0, 23, 1, 4, 4, 3, 0, 1, 9]), "ecdsa"],
  ];
  for (const [name, bytes, leaf] of refused) {
    assert.throws(() => readSignedParams("ecdhe", bytes, leaf), KeyExchangeError, name);
  }
  const long = ecdheMessage(4, 3, sig);
  assert.throws(
    () => readSignedParams("ecdhe", long.subarray(0, long.length - 1), "ecdsa"),
    KeyExchangeError,
  );
  // DHE: p, g, Ys each with a 2-byte length.
  const dhe = new Uint8Array([0, 1, 7, 0, 1, 2, 0, 1, 5, 4, 1, 0, 2, 9, 9]);
  const split = readSignedParams("dhe", dhe, "rsa");
  assert.equal(split.params.length, 9);
  assert.deepEqual([...split.signature], [9, 9]);
});
