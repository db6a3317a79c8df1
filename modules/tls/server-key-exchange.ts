/*
 * TLS 1.2 ServerKeyExchange for (EC)DHE suites (RFC 5246 §7.4.3, RFC 8422
 * §5.4): where the server proves it holds the certificate's key, by signing
 * client_random + server_random + its key-exchange parameters. This module
 * splits the message and refuses what must never be accepted: a missing or
 * "anonymous" signature, hash "none"/MD5/SHA-1/SHA-224, a signature type
 * that does not match the verified certificate's key, bytes that do not add
 * up. The caller verifies `signature` over `signedData(...)` with the
 * verified leaf's key before using the parameters.
 */
import type { HashName, KeyType } from "./certificate";

export type KeyExchange = "ecdhe" | "dhe";

export interface SignedParams {
  /** The parameters as sent (curve + point, or p, g, Ys). */
  params: Uint8Array;
  /** Offset of the hash algorithm byte (the SignatureAndHashAlgorithm). */
  algorithmOffset: number;
  hash: HashName;
  key: KeyType;
  signature: Uint8Array;
}

const HASHES: Record<number, HashName> = { 4: "SHA256", 5: "SHA384", 6: "SHA512" };
const KEYS: Record<number, KeyType> = { 1: "rsa", 3: "ecdsa" };

export class KeyExchangeError extends Error {}

export function readSignedParams(
  kind: KeyExchange,
  bytes: Uint8Array,
  leafKey: KeyType | undefined,
): SignedParams {
  let at: number;
  if (kind === "ecdhe") {
    // curve_type (3 = named_curve), named_curve (2 bytes), point length (1 byte), point
    if (bytes.length < 4 || bytes[0] !== 3)
      throw new KeyExchangeError("key exchange parameters are not a named curve");
    at = 4 + bytes[3]!;
  } else {
    at = 0;
    for (let i = 0; i < 3; i++) {
      if (at + 2 > bytes.length) throw new KeyExchangeError("truncated key exchange parameters");
      at += 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
    }
  }
  if (at + 4 > bytes.length) throw new KeyExchangeError("key exchange parameters without a signature");
  const hash = HASHES[bytes[at]!];
  const key = KEYS[bytes[at + 1]!];
  if (!hash || !key) {
    throw new KeyExchangeError(
      `key exchange signed with hash ${bytes[at]} / signature ${bytes[at + 1]}, which is refused`,
    );
  }
  if (key !== leafKey)
    throw new KeyExchangeError(`key exchange signed with ${key}, but the certificate's key is ${leafKey}`);
  const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
  if (length === 0 || at + 4 + length !== bytes.length)
    throw new KeyExchangeError("key exchange signature length does not match");
  return { params: bytes.subarray(0, at), algorithmOffset: at, hash, key, signature: bytes.subarray(at + 4) };
}

/** client_random + server_random + params: what the server signed. */
export function signedData(
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  params: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(clientRandom.length + serverRandom.length + params.length);
  out.set(clientRandom, 0);
  out.set(serverRandom, clientRandom.length);
  out.set(params, clientRandom.length + serverRandom.length);
  return out;
}
