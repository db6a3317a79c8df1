/*
 * Real X.509 DER certificates with a toy signature, built in plain
 * JavaScript so the chain logic of modules/tls can be tested inside the XS
 * engine (which has no crypto). A "key" is 16 random bytes written as an EC
 * public key; a "signature" is a keyed digest of the signed bytes under the
 * issuer's key. A certificate "signed" with another key does not verify, which
 * is all the chain logic needs: the real RSA/ECDSA checks are tested against
 * node:crypto (host-tests/node/tls-*.test.ts) and in the simulator.
 */
import type { Certificate, SignatureAlgorithm } from "../../modules/tls/certificate";
import type { SignatureVerifier } from "../../modules/tls/verify-chain";

type Bytes = number[];

function length(n: number): Bytes {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}
function tlv(tag: number, ...parts: Bytes[]): Bytes {
  const value = parts.flat();
  return [tag, ...length(value.length), ...value];
}
const seq = (...parts: Bytes[]): Bytes => tlv(0x30, ...parts);
function oid(text: string): Bytes {
  const arcs = text.split(".").map(Number);
  const out: Bytes = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: Bytes = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, out);
}
const ascii = (text: string): Bytes => [...text].map((c) => c.charCodeAt(0));
function time(ms: number): Bytes {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  const text = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return tlv(0x18, ascii(text));
}
export function name(cn: string): Bytes {
  return seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, ascii(cn)))));
}

/** A keyed digest: 32 bytes, every byte depending on the key and on every signed byte. */
export function toyMac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let h = 0x811c9dc5;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193) >>> 0;
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
    for (let i = 0; i < 16; i++) {
      h = Math.imul(h ^ i ^ (round * 16), 0x01000193) >>> 0;
      out[round * 16 + i] = h >>> 24;
    }
  }
  return out;
}

export interface ToyKey {
  bytes: Uint8Array;
}

let keySeed = 1;
export function toyKey(): ToyKey {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = (Math.imul(keySeed, 2654435761 + i * 97) >>> 11) & 0xff;
  keySeed++;
  return { bytes };
}

function spki(key: ToyKey): Bytes {
  return seq(seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")), tlv(0x03, [0], [4, ...key.bytes]));
}

/** The key bytes inside an SPKI this module wrote (the last 16 bytes). */
function keyOf(spkiDer: Uint8Array): Uint8Array {
  return spkiDer.subarray(spkiDer.length - 16);
}

export interface ToyCertOptions {
  subject: string;
  issuer?: string;
  key: ToyKey;
  signer: ToyKey;
  from: number;
  to: number;
  ca?: boolean;
  pathLen?: number;
  keyUsage?: number; // bits as RFC 5280 numbers them
  noConstraints?: boolean;
  dns?: string[];
  critical?: string; // an extra critical extension OID
  serial?: number;
}

export function toyCertificate(o: ToyCertOptions): Uint8Array {
  const extensions: Bytes[] = [];
  const ext = (id: string, critical: boolean, value: Bytes) =>
    extensions.push(seq(oid(id), critical ? tlv(0x01, [0xff]) : [], tlv(0x04, value)));
  if (!o.noConstraints) {
    ext(
      "2.5.29.19",
      true,
      seq(o.ca ? tlv(0x01, [0xff]) : [], o.pathLen !== undefined ? tlv(0x02, [o.pathLen]) : []),
    );
    const usage = o.keyUsage ?? (o.ca ? (1 << 5) | (1 << 6) : 1 << 0);
    let first = 0;
    let second = 0;
    for (let bit = 0; bit < 9; bit++) {
      if (!(usage & (1 << bit))) continue;
      if (bit < 8) first |= 0x80 >> bit;
      else second |= 0x80;
    }
    ext("2.5.29.15", true, tlv(0x03, second ? [7, first, second] : [0, first]));
  }
  if (o.dns) ext("2.5.29.17", false, seq(...o.dns.map((d) => tlv(0x82, ascii(d)))));
  if (o.critical) ext(o.critical, true, tlv(0x05, []));
  const algorithm = seq(oid("1.2.840.10045.4.3.2"));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, [2])),
    tlv(0x02, [o.serial ?? 1]),
    algorithm,
    name(o.issuer ?? o.subject),
    seq(time(o.from), time(o.to)),
    name(o.subject),
    spki(o.key),
    extensions.length > 0 ? tlv(0xa3, seq(...extensions)) : [],
  );
  const signature = toyMac(o.signer.bytes, new Uint8Array(tbs));
  return new Uint8Array(seq(tbs, algorithm, tlv(0x03, [0], [...signature])));
}

export class ToySignatures implements SignatureVerifier {
  checked = 0;
  verify(
    issuer: Certificate,
    _algorithm: SignatureAlgorithm,
    signed: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    this.checked++;
    const expected = toyMac(keyOf(issuer.spki), signed);
    if (expected.length !== signature.length) return false;
    for (let i = 0; i < expected.length; i++) if (expected[i] !== signature[i]) return false;
    return true;
  }
}
