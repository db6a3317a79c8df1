/*
 * capsync's replacement for the Moddable SDK's `ssl/cert` module (the
 * CertificateManager its JavaScript TLS client, SecureSocket, consults). The
 * manifest fragment beside this file maps "ssl/cert" here, so the SDK's
 * handshake code calls this class unchanged.
 *
 * The SDK's own verify() skips a certificate pair whose signature fails and
 * returns the host-name result of whichever certificate matched, so a forged
 * leaf followed by genuine CA certificates was accepted and its key used for
 * the handshake. Here:
 *
 * - verify() runs modules/tls/verify-chain.ts (the same code the Node and XS
 *   tests run) and remembers the one leaf it verified;
 * - getKey(peerCert) returns that leaf's public key and throws for any other
 *   certificate, so no key from an unverified certificate can reach the key
 *   exchange;
 * - register() of the peer certificate (which the SDK calls after verify) is
 *   ignored: the stock class added it to the trusted set.
 *
 * Trust: the `certificate` / `certificates` secure options (a self-hosted
 * cloud's CA, the tests' root) plus the roots bundled as `caNNN.der`
 * resources, found through the SDK's `ca.ski` index by authority key id.
 * Failures are traced (check, host, detail) and reported to the secure
 * option `onCertificateError`, which the socket adapter turns into the
 * transport error the sync service logs and counts.
 */
import Resource from "Resource";
import X509 from "x509";
import type { Certificate } from "../../../tls/certificate";
import { equalBytes } from "../../../tls/der";
import { type ChainCheck, type TrustAnchors, verifyServerChain } from "../../../tls/verify-chain";
import { sdkSignatures } from "./sdk-signatures";

type Bytes = ArrayBuffer | Uint8Array;

export interface SecureOptions {
  tls_server_name?: string;
  /** Trusted in addition to the bundled roots. */
  certificate?: Bytes;
  certificates?: Bytes[];
  /** Called once when the server's chain is refused. */
  onCertificateError?: (check: ChainCheck, detail: string) => void;
  /** Wall clock for validity dates (default Date.now). */
  now?: () => number;
}

function bytesOf(value: Bytes): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

/** Roots from the options, then the bundled ones by authority key id. */
class DeviceAnchors implements TrustAnchors {
  private readonly extra: Uint8Array[];

  constructor(extra: Uint8Array[]) {
    this.extra = extra;
  }

  candidates(_issuer: Uint8Array, authorityKeyId: Uint8Array | undefined): Uint8Array[] {
    const out = this.extra.slice();
    if (authorityKeyId && authorityKeyId.length === 20 && Resource.exists("ca.ski")) {
      const index = new Uint8Array(new Resource("ca.ski") as unknown as ArrayBuffer);
      for (let i = 0; i + 20 <= index.length; i += 20) {
        if (!equalBytes(index.subarray(i, i + 20), authorityKeyId)) continue;
        const name = `ca${i / 20}.der`;
        // The index lists the SDK's whole set; only the roots the manifest bundles exist.
        if (Resource.exists(name)) out.push(new Uint8Array(new Resource(name) as unknown as ArrayBuffer));
      }
    }
    return out;
  }
}

export default class CertificateManager {
  #options: SecureOptions;
  #leaf: Certificate | undefined;

  constructor(options: SecureOptions) {
    this.#options = options;
  }

  verify(certs: Uint8Array[], options: SecureOptions): boolean {
    this.#leaf = undefined;
    const host = options.tls_server_name ?? this.#options.tls_server_name ?? "";
    const extra: Uint8Array[] = [];
    const o = this.#options;
    if (o.certificate) extra.push(bytesOf(o.certificate));
    if (o.certificates) for (const c of o.certificates) extra.push(bytesOf(c));
    const result = host
      ? verifyServerChain(certs, {
          host,
          now: o.now ? o.now() : Date.now(),
          anchors: new DeviceAnchors(extra),
          signatures: sdkSignatures,
        })
      : ({
          ok: false,
          check: "host-name",
          detail: "no server name to check the certificate against",
        } as const);
    if (!result.ok) {
      trace(`tls: certificate for ${host} refused (${result.check}): ${result.detail}\n`);
      o.onCertificateError?.(result.check, result.detail);
      return false;
    }
    this.#leaf = result.leaf;
    return true;
  }

  /** The verified leaf's key type (for the ServerKeyExchange check), or undefined before a successful verify(). */
  verifiedLeaf(): Certificate | undefined {
    return this.#leaf;
  }

  getKey(cert?: Bytes): unknown {
    const leaf = this.#leaf;
    if (!leaf || !cert || !equalBytes(bytesOf(cert), leaf.der)) {
      throw new Error("tls: no verified server certificate for this key");
    }
    return X509.decodeSPKI(leaf.der);
  }

  register(_cert: Bytes): void {
    // The SDK registers the peer's certificate after verify(); it must not become trusted.
  }

  findPreferredCert(): Bytes[] {
    return []; // No client certificates.
  }

  getCerts(): never {
    throw new Error("tls: capsync is a TLS client only");
  }

  getDH(): never {
    throw new Error("tls: capsync is a TLS client only");
  }

  static register(_cert: Bytes): never {
    throw new Error("tls: pass trusted roots as the secure option `certificates`");
  }
}
