// The parts of the Moddable SDK's JavaScript crypto ($MODDABLE/modules/crypt)
// the TLS adapters use. The SDK ships no typings for them.
declare module "x509" {
  export interface RsaKey {
    modulus: bigint;
    exponent: bigint;
  }
  export interface EcKey {
    curve: { n: bigint };
    pub: unknown;
  }
  const X509: { decodeSPKI(certificate: ArrayBufferLike | Uint8Array): RsaKey & EcKey };
  export default X509;
}
declare module "rsa" {
  export default class RSA {
    constructor(exponent: bigint, modulus: bigint);
    process(value: bigint): bigint;
    readonly modulusSize: number;
  }
}
declare module "ecdsa" {
  export default class ECDSA {
    constructor(key: unknown, curve: unknown, priv?: boolean, oid?: unknown[]);
    _verify(digest: ArrayBuffer, r: bigint, s: bigint): boolean;
  }
}
declare module "crypt" {
  export class Digest {
    constructor(name: string);
    write(data: ArrayBufferLike | Uint8Array): void;
    close(): ArrayBuffer;
  }
}
declare module "ssl/stream" {
  export default class SSLStream {
    constructor(bytes?: Uint8Array);
    readChunk(n: number, reference: true): Uint8Array;
    readonly bytesAvailable: number;
  }
}
declare module "ssl/constants" {
  export const RSA: number;
  export const DHE_DSS: number;
  export const DHE_RSA: number;
  export const ECDHE_RSA: number;
}
declare module "ssl/error" {
  export default class TLSError extends Error {}
}
declare module "capsync/ssl-handshake-stock" {
  interface Protocol {
    unpacketize(session: unknown, stream: unknown): unknown;
  }
  const handshakeProtocol: Protocol & { serverKeyExchange: Protocol };
  export default handshakeProtocol;
}
