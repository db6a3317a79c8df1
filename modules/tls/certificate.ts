/*
 * An X.509 v3 certificate (RFC 5280) decoded into what chain verification
 * needs. Strict: anything malformed throws a DerError, an unknown critical
 * extension or a repeated extension is an error, and the signature algorithm
 * inside the signed part must equal the outer one. Byte fields are
 * subarrays of the input (no copies).
 */
import {
  bitStringBytes,
  DerError,
  DerReader,
  equalBytes,
  oidText,
  parseTime,
  TAG_BIT_STRING,
  TAG_BOOLEAN,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from "./der";

export type HashName = "SHA256" | "SHA384" | "SHA512";
export type KeyType = "rsa" | "ecdsa";

export interface SignatureAlgorithm {
  oid: string;
  hash: HashName;
  key: KeyType;
}

/**
 * The signature algorithms accepted in a chain. MD5 and SHA-1 are refused
 * (collisions are practical); RSA-PSS and EdDSA are not supported by the
 * device's primitives and are refused too.
 */
const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  "1.2.840.113549.1.1.11": { oid: "1.2.840.113549.1.1.11", hash: "SHA256", key: "rsa" },
  "1.2.840.113549.1.1.12": { oid: "1.2.840.113549.1.1.12", hash: "SHA384", key: "rsa" },
  "1.2.840.113549.1.1.13": { oid: "1.2.840.113549.1.1.13", hash: "SHA512", key: "rsa" },
  "1.2.840.10045.4.3.2": { oid: "1.2.840.10045.4.3.2", hash: "SHA256", key: "ecdsa" },
  "1.2.840.10045.4.3.3": { oid: "1.2.840.10045.4.3.3", hash: "SHA384", key: "ecdsa" },
  "1.2.840.10045.4.3.4": { oid: "1.2.840.10045.4.3.4", hash: "SHA512", key: "ecdsa" },
};

const KEY_ALGORITHMS: Record<string, KeyType> = {
  "1.2.840.113549.1.1.1": "rsa",
  "1.2.840.10045.2.1": "ecdsa",
};

const EXT_SUBJECT_KEY_ID = "2.5.29.14";
const EXT_KEY_USAGE = "2.5.29.15";
const EXT_SUBJECT_ALT_NAME = "2.5.29.17";
const EXT_BASIC_CONSTRAINTS = "2.5.29.19";
const EXT_CERTIFICATE_POLICIES = "2.5.29.32";
const EXT_AUTHORITY_KEY_ID = "2.5.29.35";
const EXT_EXTENDED_KEY_USAGE = "2.5.29.37";
/** Extensions whose meaning this verifier implements (or, for policies, may ignore per RFC 5280 §6.1 without policy checking). */
const UNDERSTOOD = [
  EXT_SUBJECT_KEY_ID,
  EXT_KEY_USAGE,
  EXT_SUBJECT_ALT_NAME,
  EXT_BASIC_CONSTRAINTS,
  EXT_CERTIFICATE_POLICIES,
  EXT_AUTHORITY_KEY_ID,
  EXT_EXTENDED_KEY_USAGE,
];

export const EKU_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
export const EKU_ANY = "2.5.29.37.0";

/** keyUsage bits (RFC 5280 §4.2.1.3), numbered from the BIT STRING's first bit. */
export const KU_DIGITAL_SIGNATURE = 0;
export const KU_KEY_ENCIPHERMENT = 2;
export const KU_KEY_AGREEMENT = 4;
export const KU_KEY_CERT_SIGN = 5;

export interface Certificate {
  /** The whole certificate. */
  der: Uint8Array;
  /** The signed part (TBSCertificate, with its tag and length). */
  tbs: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** The signature value (for ECDSA, the DER `SEQUENCE { r, s }`). */
  signature: Uint8Array;
  /** DER of the issuer and subject Names, compared byte for byte. */
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: number;
  notAfter: number;
  /** The whole SubjectPublicKeyInfo (tag included). */
  spki: Uint8Array;
  keyType: KeyType | undefined;
  /** basicConstraints: absent means "not a CA". */
  isCa: boolean;
  /** basicConstraints pathLenConstraint, or undefined for none. */
  pathLen: number | undefined;
  /** keyUsage bits, or -1 when the extension is absent (no restriction). */
  keyUsage: number;
  /** extKeyUsage OIDs, or undefined when absent (no restriction). */
  extendedKeyUsage: string[] | undefined;
  /** subjectAltName dNSName entries (as written: case is folded when matching). */
  dnsNames: string[];
  /** subjectAltName iPAddress entries (4 or 16 bytes). */
  ipAddresses: Uint8Array[];
  subjectKeyId: Uint8Array | undefined;
  authorityKeyId: Uint8Array | undefined;
}

export function hasKeyUsage(cert: Certificate, bit: number): boolean {
  return cert.keyUsage < 0 || (cert.keyUsage & (1 << bit)) !== 0;
}

export function selfIssued(cert: Certificate): boolean {
  return equalBytes(cert.issuer, cert.subject);
}

/** Decode one DER certificate. Throws DerError naming what is wrong. */
export function parseCertificate(der: Uint8Array): Certificate {
  const outer = new DerReader(der);
  const certificate = outer.enter(TAG_SEQUENCE);
  outer.expectEnd("the certificate");

  const tbsElement = certificate.next(TAG_SEQUENCE);
  const tbs = certificate.encoding(tbsElement);
  const outerAlgorithm = certificate.next(TAG_SEQUENCE);
  const outerAlgorithmBytes = certificate.encoding(outerAlgorithm);
  const signatureBits = certificate.next(TAG_BIT_STRING);
  certificate.expectEnd("the signature");
  const signature = bitStringBytes(certificate.value(signatureBits));

  const t = new DerReader(der, tbsElement.valueStart, tbsElement.end);
  if (t.peekTag() !== 0xa0) throw new DerError("not an X.509 v3 certificate");
  const version = t.enter(0xa0);
  const versionValue = version.value(version.next(TAG_INTEGER));
  if (versionValue.length !== 1 || versionValue[0] !== 2) throw new DerError("not an X.509 v3 certificate");
  t.next(TAG_INTEGER); // serial number
  const innerAlgorithm = t.next(TAG_SEQUENCE);
  if (!equalBytes(t.encoding(innerAlgorithm), outerAlgorithmBytes)) {
    throw new DerError("signature algorithm differs between the signed part and the signature");
  }
  const algorithmReader = new DerReader(der, innerAlgorithm.valueStart, innerAlgorithm.end);
  const algorithmOid = oidText(algorithmReader.value(algorithmReader.next(TAG_OID)));
  const signatureAlgorithm = SIGNATURE_ALGORITHMS[algorithmOid];
  if (!signatureAlgorithm) throw new DerError(`unsupported signature algorithm ${algorithmOid}`);

  const issuer = t.encoding(t.next(TAG_SEQUENCE));
  const validity = t.enter(TAG_SEQUENCE);
  const from = validity.next();
  const notBefore = parseTime(from.tag, validity.value(from));
  const to = validity.next();
  const notAfter = parseTime(to.tag, validity.value(to));
  validity.expectEnd("the validity");
  const subject = t.encoding(t.next(TAG_SEQUENCE));

  const spkiElement = t.next(TAG_SEQUENCE);
  const spki = t.encoding(spkiElement);
  const spkiReader = new DerReader(der, spkiElement.valueStart, spkiElement.end);
  const keyAlgorithm = spkiReader.enter(TAG_SEQUENCE);
  const keyType = KEY_ALGORITHMS[oidText(keyAlgorithm.value(keyAlgorithm.next(TAG_OID)))];
  spkiReader.next(TAG_BIT_STRING);
  spkiReader.expectEnd("the public key");

  const cert: Certificate = {
    der,
    tbs,
    signatureAlgorithm,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki,
    keyType,
    isCa: false,
    pathLen: undefined,
    keyUsage: -1,
    extendedKeyUsage: undefined,
    dnsNames: [],
    ipAddresses: [],
    subjectKeyId: undefined,
    authorityKeyId: undefined,
  };

  // Optional issuerUniqueID [1] and subjectUniqueID [2], then extensions [3].
  if (t.peekTag() === 0x81) t.next();
  if (t.peekTag() === 0x82) t.next();
  if (t.peekTag() === 0xa3) {
    const wrapper = t.enter(0xa3);
    const extensions = wrapper.enter(TAG_SEQUENCE);
    wrapper.expectEnd("the extensions");
    const seen: string[] = [];
    while (!extensions.done) {
      const extension = extensions.enter(TAG_SEQUENCE);
      const id = oidText(extension.value(extension.next(TAG_OID)));
      let critical = false;
      if (extension.peekTag() === TAG_BOOLEAN) {
        const flag = extension.value(extension.next(TAG_BOOLEAN));
        critical = flag.length === 1 && flag[0] === 0xff;
      }
      const valueElement = extension.next(TAG_OCTET_STRING);
      extension.expectEnd("an extension");
      if (seen.includes(id)) throw new DerError(`extension ${id} appears twice`);
      seen.push(id);
      if (!UNDERSTOOD.includes(id)) {
        if (critical) throw new DerError(`unsupported critical extension ${id}`);
        continue;
      }
      decodeExtension(cert, id, new DerReader(der, valueElement.valueStart, valueElement.end));
    }
  }
  t.expectEnd("the signed part");
  return cert;
}

function decodeExtension(cert: Certificate, id: string, value: DerReader): void {
  switch (id) {
    case EXT_BASIC_CONSTRAINTS: {
      const sequence = value.enter(TAG_SEQUENCE);
      if (sequence.peekTag() === TAG_BOOLEAN) {
        const flag = sequence.value(sequence.next(TAG_BOOLEAN));
        cert.isCa = flag.length === 1 && flag[0] === 0xff;
      }
      if (sequence.peekTag() === TAG_INTEGER) {
        const n = sequence.value(sequence.next(TAG_INTEGER));
        if (n.length > 2 || (n[0]! & 0x80) !== 0) throw new DerError("bad pathLenConstraint");
        cert.pathLen = n.length === 1 ? n[0]! : n[0]! * 256 + n[1]!;
      }
      sequence.expectEnd("basicConstraints");
      break;
    }
    case EXT_KEY_USAGE: {
      const bits = value.value(value.next(TAG_BIT_STRING));
      if (bits.length < 1 || bits[0]! > 7) throw new DerError("bad keyUsage");
      // Bit 0 is the most significant bit of the first byte.
      let usage = 0;
      for (let i = 1; i < bits.length && i <= 2; i++) {
        for (let b = 0; b < 8; b++) if (bits[i]! & (0x80 >> b)) usage |= 1 << ((i - 1) * 8 + b);
      }
      cert.keyUsage = usage;
      break;
    }
    case EXT_EXTENDED_KEY_USAGE: {
      const sequence = value.enter(TAG_SEQUENCE);
      const usages: string[] = [];
      while (!sequence.done) usages.push(oidText(sequence.value(sequence.next(TAG_OID))));
      cert.extendedKeyUsage = usages;
      break;
    }
    case EXT_SUBJECT_ALT_NAME: {
      const names = value.enter(TAG_SEQUENCE);
      while (!names.done) {
        const name = names.next();
        const bytes = names.value(name);
        if (name.tag === 0x82) {
          let text = "";
          for (let i = 0; i < bytes.length; i++) {
            const c = bytes[i]!;
            if (c < 0x21 || c > 0x7e) throw new DerError("dNSName with a non-printable character");
            text += String.fromCharCode(c);
          }
          cert.dnsNames.push(text);
        } else if (name.tag === 0x87) {
          if (bytes.length !== 4 && bytes.length !== 16) throw new DerError("bad iPAddress length");
          cert.ipAddresses.push(bytes);
        }
      }
      break;
    }
    case EXT_SUBJECT_KEY_ID:
      cert.subjectKeyId = value.value(value.next(TAG_OCTET_STRING));
      break;
    case EXT_AUTHORITY_KEY_ID: {
      const sequence = value.enter(TAG_SEQUENCE);
      while (!sequence.done) {
        const element = sequence.next();
        if (element.tag === 0x80) cert.authorityKeyId = sequence.value(element);
      }
      break;
    }
    default:
      // certificatePolicies: accepted without policy processing.
      break;
  }
}
