/*
 * The certificate verifier's signature port on the device: the Moddable SDK's
 * big-number RSA and ECDSA ($MODDABLE/modules/crypt), with the encodings
 * checked by modules/tls/signature-encoding.ts rather than by the SDK's
 * lenient parsers (its PKCS#1 decoder ignores the DigestInfo algorithm and
 * trailing bytes; its ECDSA accepts r = s = 0).
 */
import { Digest } from "crypt";
import ECDSA from "ecdsa";
import RSA from "rsa";
import X509 from "x509";
import type { Certificate, HashName, SignatureAlgorithm } from "../../../tls/certificate";
import { equalBytes } from "../../../tls/der";
import { parseEcdsaSignature, pkcs1v15Block } from "../../../tls/signature-encoding";
import type { SignatureVerifier } from "../../../tls/verify-chain";

function toBigInt(bytes: Uint8Array): bigint {
  let hex = "0x0";
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return BigInt(hex);
}

function toBytes(value: bigint, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return v === 0n ? out : undefined;
}

export function digestOf(hash: HashName, ...parts: (Uint8Array | ArrayBuffer)[]): Uint8Array {
  const digest = new Digest(hash);
  for (const part of parts) digest.write(part);
  return new Uint8Array(digest.close());
}

/** Verify `signature` over `signed` with the public key of the certificate `keyHolder` (DER). */
export function verifyWithCertificateKey(
  keyHolder: Uint8Array,
  algorithm: SignatureAlgorithm,
  signed: Uint8Array | ArrayBuffer,
  signature: Uint8Array,
): boolean {
  const key = X509.decodeSPKI(keyHolder);
  const digest = digestOf(algorithm.hash, signed);
  if (algorithm.key === "rsa") {
    if (typeof key.modulus !== "bigint" || typeof key.exponent !== "bigint") return false;
    const rsa = new RSA(key.exponent, key.modulus);
    const k = rsa.modulusSize;
    if (signature.length !== k) return false;
    const s = toBigInt(signature);
    if (s >= key.modulus) return false;
    const expected = pkcs1v15Block(algorithm.hash, digest, k);
    const actual = toBytes(rsa.process(s), k);
    return expected !== undefined && actual !== undefined && equalBytes(actual, expected);
  }
  if (!key.curve || !key.pub) return false;
  const { r, s } = parseEcdsaSignature(signature);
  const rn = toBigInt(r);
  const sn = toBigInt(s);
  const n = key.curve.n;
  if (!(rn > 0n && rn < n && sn > 0n && sn < n)) return false;
  // _verify takes the digest and (r, s) directly: no second parse of the signature.
  return new ECDSA(key.pub, key.curve, false, [])._verify(digest.buffer as ArrayBuffer, rn, sn);
}

export const sdkSignatures: SignatureVerifier = {
  verify(
    issuer: Certificate,
    algorithm: SignatureAlgorithm,
    signed: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    return verifyWithCertificateKey(issuer.der, algorithm, signed, signature);
  },
};
