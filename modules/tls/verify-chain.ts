/*
 * Server certificate chain verification (RFC 5280 path validation, the subset
 * a TLS client needs), platform-free. The device's TLS stack calls it with the
 * certificates from the server's Certificate message; it accepts only when:
 *
 * - the leaf names the host (host-name.ts) and may serve TLS (extKeyUsage);
 * - each certificate on the path is signed by the next one, every signature
 *   checked with the issuer's key (`SignatureVerifier`, the platform's crypto);
 * - the path ends in a trust anchor (a root the device trusts) whose key
 *   verifies the last signature; presented certificates are only candidates
 *   and are never trusted for being presented;
 * - every certificate on the path is within its validity dates at `now`;
 * - every issuer below the anchor is a CA (basicConstraints cA), may sign
 *   certificates (keyUsage keyCertSign when keyUsage is present), and its
 *   pathLenConstraint allows the intermediates below it.
 *
 * Any failure names the check and the certificate (subject) it failed on.
 * The caller must take the server's key from `result.leaf`, the certificate
 * that was verified, and from nothing else.
 */
import {
  type Certificate,
  EKU_ANY,
  EKU_SERVER_AUTH,
  hasKeyUsage,
  KU_KEY_CERT_SIGN,
  parseCertificate,
  type SignatureAlgorithm,
  selfIssued,
} from "./certificate";
import { equalBytes } from "./der";
import { certificateMatchesHost } from "./host-name";
import { describeName } from "./names";

/** The platform's signature primitive: does `signature` over `signed` verify with `issuer`'s public key? */
export interface SignatureVerifier {
  verify(
    issuer: Certificate,
    algorithm: SignatureAlgorithm,
    signed: Uint8Array,
    signature: Uint8Array,
  ): boolean;
}

/** Trust anchors: DER certificates the device trusts, looked up by the issuer a certificate names. */
export interface TrustAnchors {
  /** Candidate roots for a certificate with this issuer Name (DER) and authorityKeyIdentifier; may return extra candidates. */
  candidates(issuer: Uint8Array, authorityKeyId: Uint8Array | undefined): Uint8Array[];
}

export type ChainCheck =
  | "empty"
  | "malformed"
  | "host-name"
  | "expired"
  | "not-yet-valid"
  | "extended-key-usage"
  | "signature"
  | "untrusted"
  | "not-a-ca"
  | "key-usage"
  | "path-length"
  | "too-long";

export type ChainResult =
  | { ok: true; leaf: Certificate; length: number }
  | { ok: false; check: ChainCheck; detail: string };

export interface VerifyOptions {
  host: string;
  /** Wall-clock time, ms since the epoch. NaN (clock not set) fails every date check. */
  now: number;
  anchors: TrustAnchors;
  signatures: SignatureVerifier;
  /** Most intermediates accepted between leaf and anchor (default 4). */
  maxIntermediates?: number;
}

/** Several anchors or chains to try: a bounded search so a hostile chain cannot make the device loop. */
const MAX_SIGNATURE_CHECKS = 16;

export function verifyServerChain(presented: readonly Uint8Array[], options: VerifyOptions): ChainResult {
  if (presented.length === 0) return fail("empty", "the server sent no certificate");
  const maxIntermediates = options.maxIntermediates ?? 4;
  if (presented.length > maxIntermediates + 2) {
    return fail("too-long", `the server sent ${presented.length} certificates`);
  }
  const certs: Certificate[] = [];
  for (let i = 0; i < presented.length; i++) {
    try {
      certs.push(parseCertificate(presented[i]!));
    } catch (error) {
      return fail("malformed", `certificate ${i} of ${presented.length}: ${(error as Error).message}`);
    }
  }

  const leaf = certs[0]!;
  const dates = checkDates(leaf, options.now, "the server's certificate");
  if (dates) return dates;
  if (!certificateMatchesHost(leaf, options.host)) {
    const names = leaf.dnsNames.length > 0 ? leaf.dnsNames.join(", ") : "no DNS names";
    return fail("host-name", `the server's certificate is for ${names}, not ${options.host}`);
  }
  const eku = leaf.extendedKeyUsage;
  if (eku && !eku.includes(EKU_SERVER_AUTH) && !eku.includes(EKU_ANY)) {
    return fail("extended-key-usage", "the server's certificate is not for TLS servers");
  }

  let current = leaf;
  const used: boolean[] = certs.map((_, i) => i === 0);
  let intermediates = 0;
  let checks = 0;
  const verifies = (issuer: Certificate, subject: Certificate): boolean => {
    checks++;
    if (issuer.keyType !== subject.signatureAlgorithm.key) return false;
    try {
      return options.signatures.verify(issuer, subject.signatureAlgorithm, subject.tbs, subject.signature);
    } catch {
      return false;
    }
  };

  for (;;) {
    // 1. A trust anchor that signed `current` ends the path.
    let anchorNameMatched = false;
    for (const der of options.anchors.candidates(current.issuer, current.authorityKeyId)) {
      if (checks >= MAX_SIGNATURE_CHECKS) return fail("too-long", "too many candidate issuers");
      let anchor: Certificate;
      try {
        anchor = parseCertificate(der);
      } catch {
        continue; // A broken bundled root cannot vouch for anything.
      }
      if (!equalBytes(anchor.subject, current.issuer)) continue;
      anchorNameMatched = true;
      if (!verifies(anchor, current)) continue;
      const anchorDates = checkDates(anchor, options.now, "the trusted root");
      if (anchorDates) return anchorDates;
      if (anchor.pathLen !== undefined && intermediates > anchor.pathLen) {
        return fail(
          "path-length",
          `the trusted root ${describeName(anchor.subject)} allows ${anchor.pathLen} intermediate(s), the chain has ${intermediates}`,
        );
      }
      return { ok: true, leaf, length: intermediates + 1 };
    }

    // 2. Otherwise a presented certificate must have signed it.
    let issuerIndex = -1;
    let nameMatched = anchorNameMatched;
    for (let i = 1; i < certs.length; i++) {
      if (used[i] || !equalBytes(certs[i]!.subject, current.issuer)) continue;
      nameMatched = true;
      if (checks >= MAX_SIGNATURE_CHECKS) return fail("too-long", "too many candidate issuers");
      if (verifies(certs[i]!, current)) {
        issuerIndex = i;
        break;
      }
    }
    const who =
      current === leaf ? "the server's certificate" : `certificate ${describeName(current.subject)}`;
    if (issuerIndex < 0) {
      if (nameMatched) {
        return fail(
          "signature",
          `the signature on ${who} does not verify with the key of its named issuer ${describeName(current.issuer)}`,
        );
      }
      if (selfIssued(current)) return fail("untrusted", `${who} is self-signed and is not a trusted root`);
      return fail(
        "untrusted",
        `${who} is issued by ${describeName(current.issuer)}, which is neither a trusted root nor in the chain`,
      );
    }
    const issuer = certs[issuerIndex]!;
    used[issuerIndex] = true;
    const issuerName = describeName(issuer.subject);
    const issuerDates = checkDates(issuer, options.now, `issuer ${issuerName}`);
    if (issuerDates) return issuerDates;
    if (!issuer.isCa) return fail("not-a-ca", `issuer ${issuerName} is not a CA (no basicConstraints cA)`);
    if (!hasKeyUsage(issuer, KU_KEY_CERT_SIGN)) {
      return fail("key-usage", `issuer ${issuerName} may not sign certificates (keyUsage lacks keyCertSign)`);
    }
    if (issuer.pathLen !== undefined && intermediates > issuer.pathLen) {
      return fail(
        "path-length",
        `issuer ${issuerName} allows ${issuer.pathLen} intermediate(s) below it, the chain has ${intermediates}`,
      );
    }
    intermediates++;
    if (intermediates > maxIntermediates)
      return fail("too-long", `more than ${maxIntermediates} intermediates`);
    current = issuer;
  }
}

function checkDates(cert: Certificate, now: number, who: string): ChainResult | undefined {
  if (!(now >= cert.notBefore)) {
    return fail("not-yet-valid", `${who} is valid only from ${new Date(cert.notBefore).toISOString()}`);
  }
  if (!(now <= cert.notAfter)) {
    return fail("expired", `${who} expired at ${new Date(cert.notAfter).toISOString()}`);
  }
  return undefined;
}

function fail(check: ChainCheck, detail: string): ChainResult {
  return { ok: false, check, detail };
}

/** Anchors from a list of DER certificates (a self-hosted CA, tests). */
export class AnchorList implements TrustAnchors {
  private readonly roots: { der: Uint8Array; subject: Uint8Array }[] = [];

  constructor(roots: readonly Uint8Array[]) {
    for (const der of roots) this.roots.push({ der, subject: parseCertificate(der).subject });
  }

  candidates(issuer: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const root of this.roots) if (equalBytes(root.subject, issuer)) out.push(root.der);
    return out;
  }
}
