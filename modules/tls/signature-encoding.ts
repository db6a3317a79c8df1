/*
 * Signature encodings checked exactly, so the device's big-number primitives
 * are never trusted to parse attacker-chosen bytes:
 *
 * - RSA PKCS#1 v1.5: the expected encoded message `00 01 FF…FF 00 DigestInfo`
 *   is built here and compared byte for byte with `signature^e mod n` (the
 *   construct-and-compare method of RFC 8017 §8.2.2). A parser that skips the
 *   DigestInfo's algorithm or tolerates trailing bytes lets small-exponent
 *   signatures be forged; comparing the whole block cannot.
 * - ECDSA: `SEQUENCE { INTEGER r, INTEGER s }` in strict DER, positive and
 *   minimal; the caller then checks 0 < r, s < n (r = s = 0 "verifies" any
 *   message on implementations that skip that check).
 */
import type { HashName } from "./certificate";
import { DerError, DerReader, TAG_INTEGER, TAG_SEQUENCE } from "./der";

/** DER of DigestInfo's AlgorithmIdentifier + OCTET STRING header, per hash (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<HashName, number[]> = {
  SHA256: [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
  ],
  SHA384: [
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00,
    0x04, 0x30,
  ],
  SHA512: [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00,
    0x04, 0x40,
  ],
};

export const DIGEST_LENGTH: Record<HashName, number> = { SHA256: 32, SHA384: 48, SHA512: 64 };

/** The k-byte PKCS#1 v1.5 signature block for `digest`, or undefined when the modulus is too small for it. */
export function pkcs1v15Block(hash: HashName, digest: Uint8Array, k: number): Uint8Array | undefined {
  const prefix = DIGEST_INFO_PREFIX[hash];
  if (digest.length !== DIGEST_LENGTH[hash]) return undefined;
  const t = prefix.length + digest.length;
  if (k < t + 11) return undefined;
  const block = new Uint8Array(k);
  block[1] = 0x01;
  block.fill(0xff, 2, k - t - 1);
  block.set(prefix, k - t);
  block.set(digest, k - digest.length);
  return block;
}

export interface EcdsaSignature {
  r: Uint8Array;
  s: Uint8Array;
}

export function parseEcdsaSignature(der: Uint8Array): EcdsaSignature {
  const outer = new DerReader(der);
  const sequence = outer.enter(TAG_SEQUENCE);
  outer.expectEnd("the ECDSA signature");
  const r = positiveInteger(sequence);
  const s = positiveInteger(sequence);
  sequence.expectEnd("the ECDSA signature");
  return { r, s };
}

function positiveInteger(reader: DerReader): Uint8Array {
  const value = reader.value(reader.next(TAG_INTEGER));
  if (value.length === 0 || value[0]! & 0x80) throw new DerError("negative or empty INTEGER");
  if (value.length > 1 && value[0] === 0 && !(value[1]! & 0x80)) throw new DerError("non-minimal INTEGER");
  let nonZero = false;
  for (let i = 0; i < value.length; i++) if (value[i] !== 0) nonZero = true;
  if (!nonZero) throw new DerError("zero in an ECDSA signature");
  return value[0] === 0 ? value.subarray(1) : value;
}
