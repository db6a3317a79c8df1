/*
 * Test PKI, generated afresh on every run (@peculiar/x509 over Node's
 * WebCrypto): a trusted root, an intermediate, and one server chain per case
 * the device must accept or refuse. The Node-lane verifier test and the
 * simulator lane's TLS check use the same cases, so the pure verifier and
 * the device build are judged against the same chains.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY = 86_400_000;
const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const RSA = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
} as const;

export type CaseExpectation = "accept" | string;

export interface TlsCase {
  name: string;
  /** The host the client asks for (SNI and name check). */
  host: string;
  /** The certificates the server sends, leaf first (DER). */
  chain: Uint8Array[];
  /** PEM of the leaf's private key (the server needs it to complete a handshake). */
  keyPem: string;
  /** "accept", or the ChainCheck the verifier must name. */
  expect: CaseExpectation;
}

export interface TestPki {
  /** The one root the client trusts (DER). */
  root: Uint8Array;
  cases: TlsCase[];
}

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  der: Uint8Array;
}

let serial = 1;

async function keyPair(kind: "ec" | "rsa"): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(kind === "ec" ? EC : RSA, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}

interface IssueOptions {
  subject: string;
  /** Signer; omitted: self-signed with `keys`. */
  issuer?: Issued;
  /** Write this issuer Name but sign with `keys` (a forgery). */
  claimIssuer?: string;
  keys?: CryptoKeyPair;
  kind?: "ec" | "rsa";
  ca?: boolean;
  /** Leave basicConstraints and keyUsage out entirely (an ordinary end-entity certificate). */
  plain?: boolean;
  dns?: string[];
  from?: number;
  to?: number;
}

async function issue(options: IssueOptions): Promise<Issued> {
  const keys = options.keys ?? (await keyPair(options.kind ?? "ec"));
  const now = Date.now();
  const extensions: x509.Extension[] = [];
  if (!options.plain) {
    extensions.push(new x509.BasicConstraintsExtension(options.ca ?? false, undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(
        options.ca
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
    );
  }
  if (options.dns) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(options.dns.map((value) => ({ type: "dns" as const, value }))),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const signer = options.issuer?.keys ?? keys;
  // authorityKeyIdentifier as real CAs write it (the SDK's stock verifier needs it to find an issuer).
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.publicKey));
  const issuerName = options.claimIssuer ?? options.issuer?.cert.subject ?? options.subject;
  const signerAlgorithm = (signer.privateKey.algorithm as { name: string }).name === "ECDSA" ? EC : RSA;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, "0"),
    subject: options.subject,
    issuer: issuerName,
    notBefore: new Date(options.from ?? now - DAY),
    notAfter: new Date(options.to ?? now + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signerAlgorithm,
    extensions,
  });
  return { cert, keys, der: new Uint8Array(cert.rawData) };
}

async function pemKey(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`;
}

export function pemCertificates(chain: readonly Uint8Array[]): string {
  return chain
    .map(
      (der) =>
        `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`,
    )
    .join("");
}

/** The host the good chains are issued for. */
export const HOST = "cloud.capsync.test";

export async function makeTestPki(): Promise<TestPki> {
  const now = Date.now();
  const root = await issue({ subject: "CN=capsync test root R, O=capsync tests", ca: true });
  const intermediate = await issue({
    subject: "CN=capsync test intermediate I, O=capsync tests",
    issuer: root,
    ca: true,
  });
  const rsaIntermediate = await issue({
    subject: "CN=capsync test RSA intermediate, O=capsync tests",
    issuer: root,
    ca: true,
    kind: "rsa",
  });
  const leaf = (options: Partial<IssueOptions> & { subject?: string }) =>
    issue({ subject: `CN=${HOST}`, issuer: intermediate, dns: [HOST], ...options });

  const cases: TlsCase[] = [];
  const add = async (name: string, expect: string, made: Issued, rest: Issued[], host = HOST) => {
    cases.push({
      name,
      host,
      chain: [made.der, ...rest.map((c) => c.der)],
      keyPem: await pemKey(made.keys),
      expect,
    });
  };

  await add("valid chain for the right host", "accept", await leaf({}), [intermediate]);
  await add("valid chain with the root sent too", "accept", await leaf({}), [intermediate, root]);
  await add(
    "valid RSA chain (RSA intermediate and leaf)",
    "accept",
    await leaf({ issuer: rsaIntermediate, kind: "rsa" }),
    [rsaIntermediate],
  );
  await add(
    "wildcard *.example.com for a.example.com",
    "accept",
    await leaf({ subject: "CN=*.example.com", dns: ["*.example.com"] }),
    [intermediate],
    "a.example.com",
  );

  await add(
    "wrong host",
    "host-name",
    await leaf({ subject: "CN=other.example.org", dns: ["other.example.org"] }),
    [intermediate],
  );
  await add(
    "wildcard *.example.com for a.b.example.com",
    "host-name",
    await leaf({ subject: "CN=*.example.com", dns: ["*.example.com"] }),
    [intermediate],
    "a.b.example.com",
  );
  await add("expired leaf", "expired", await leaf({ from: now - 30 * DAY, to: now - DAY }), [intermediate]);
  await add("not-yet-valid leaf", "not-yet-valid", await leaf({ from: now + DAY, to: now + 30 * DAY }), [
    intermediate,
  ]);
  await add(
    "self-signed leaf for the right host",
    "untrusted",
    await issue({ subject: `CN=${HOST}`, dns: [HOST] }),
    [],
  );
  const otherRoot = await issue({ subject: "CN=untrusted root U, O=elsewhere", ca: true });
  const otherIntermediate = await issue({
    subject: "CN=untrusted intermediate, O=elsewhere",
    issuer: otherRoot,
    ca: true,
  });
  await add("chain to an untrusted root", "untrusted", await leaf({ issuer: otherIntermediate }), [
    otherIntermediate,
    otherRoot,
  ]);
  // A root impersonating R by name only: same subject, different key.
  const fakeRoot = await issue({ subject: root.cert.subject, ca: true });
  const fakeIntermediate = await issue({ subject: intermediate.cert.subject, issuer: fakeRoot, ca: true });
  await add(
    "chain to a root that copies the trusted root's name",
    "signature",
    await leaf({ issuer: fakeIntermediate }),
    [fakeIntermediate],
  );

  // The attack the SDK's stock verifier accepts: a leaf the attacker made for the right host, then genuine certificates.
  const forged = await issue({ subject: `CN=${HOST}`, dns: [HOST] });
  await add("forged self-signed leaf + genuine intermediate", "untrusted", forged, [intermediate]);
  await add("forged self-signed leaf + genuine intermediate + root", "untrusted", forged, [
    intermediate,
    root,
  ]);
  await add("forged self-signed leaf + genuine root", "untrusted", forged, [root]);
  const forgedNamed = await issue({
    subject: `CN=${HOST}`,
    dns: [HOST],
    claimIssuer: intermediate.cert.subject,
  });
  await add("forged leaf naming the genuine intermediate as issuer", "signature", forgedNamed, [
    intermediate,
    root,
  ]);

  const notCa = await issue({ subject: "CN=shop.example.net", issuer: intermediate, plain: true });
  await add("leaf issued by a certificate that is not a CA", "not-a-ca", await leaf({ issuer: notCa }), [
    notCa,
    intermediate,
  ]);
  const caWithoutCertSign = await issue({ subject: "CN=signing-only CA", issuer: intermediate, ca: true });
  // Re-issue it with a keyUsage that lacks keyCertSign.
  const noCertSign = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, "0"),
    subject: caWithoutCertSign.cert.subject,
    issuer: intermediate.cert.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    publicKey: caWithoutCertSign.keys.publicKey,
    signingKey: intermediate.keys.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const noCertSignIssued = {
    ...caWithoutCertSign,
    cert: noCertSign,
    der: new Uint8Array(noCertSign.rawData),
  };
  await add(
    "leaf issued by a CA whose keyUsage lacks keyCertSign",
    "key-usage",
    await leaf({ issuer: noCertSignIssued }),
    [noCertSignIssued, intermediate],
  );
  return { root: root.der, cases };
}
