/*
 * The certificate verifier's signature port on Node (node:crypto), for the
 * Node-lane tests of modules/tls. The device uses the Moddable SDK's RSA and
 * ECDSA (modules/platform/moddable/tls-signatures.js).
 */
import { createPublicKey, verify } from "node:crypto";
import type { Certificate, SignatureAlgorithm } from "../modules/tls/certificate";
import type { SignatureVerifier } from "../modules/tls/verify-chain";

export class NodeSignatureVerifier implements SignatureVerifier {
  /** Signatures checked so far. */
  checked = 0;

  verify(
    issuer: Certificate,
    algorithm: SignatureAlgorithm,
    signed: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    this.checked++;
    const key = createPublicKey({ key: Buffer.from(issuer.spki), format: "der", type: "spki" });
    return verify(algorithm.hash.toLowerCase(), signed, { key, dsaEncoding: "der" }, signature);
  }
}
