/*
 * The SDK's TLS handshake ($MODDABLE/modules/crypt/ssl/ssl_handshake.js,
 * imported unchanged as "capsync/ssl-handshake-stock") with one message
 * replaced: ServerKeyExchange.
 *
 * In (EC)DHE suites the server proves it holds the certificate's key only by
 * signing its key-exchange parameters. The SDK skips that check when the
 * server names hash "none" or signature "anonymous", and its ECDSA accepts
 * r = s = 0, so anyone replaying the real cloud's certificates could choose
 * the key exchange. This guard, before the SDK sees the message:
 *
 * - requires a verified leaf (CertificateManager.verifiedLeaf());
 * - splits the message with modules/tls/server-key-exchange.ts, which
 *   refuses unsigned, weakly hashed or mismatched signatures;
 * - verifies the signature with the leaf's key (sdk-signatures.ts: exact
 *   PKCS#1 block, ECDSA r and s in range);
 * - then hands the SDK a copy with the hash byte set to "none", so the SDK
 *   parses the parameters but does not verify the signature a second time
 *   (an ECDSA verification costs seconds of XS time on an ESP32). The
 *   handshake transcript is hashed from the original bytes, not the copy.
 */
import stock from "capsync/ssl-handshake-stock";
import { DHE_DSS, DHE_RSA, ECDHE_RSA } from "ssl/constants";
import TLSError from "ssl/error";
import SSLStream from "ssl/stream";
import { readSignedParams, signedData } from "../../../tls/server-key-exchange";
import type CertificateManager from "./certificate-manager";
import { verifyWithCertificateKey } from "./sdk-signatures";

interface Session {
  chosenCipher: { keyExchangeAlgorithm: number };
  clientRandom: ArrayBuffer;
  serverRandom: ArrayBuffer;
  certificateManager: CertificateManager;
}

/** Checks the message; returns the offset of its hash byte. Throws TLSError when it must be refused. */
function checkServerKeyExchange(session: Session, bytes: Uint8Array): number {
  const leaf = session.certificateManager.verifiedLeaf();
  if (!leaf) throw new TLSError("server key exchange before a verified certificate");
  const kind = session.chosenCipher.keyExchangeAlgorithm === ECDHE_RSA ? "ecdhe" : "dhe";
  let ok = false;
  let why = "signature does not verify with the certificate's key";
  let at = 0;
  try {
    const signed = readSignedParams(kind, bytes, leaf.keyType);
    at = signed.algorithmOffset;
    const data = signedData(
      new Uint8Array(session.clientRandom),
      new Uint8Array(session.serverRandom),
      signed.params,
    );
    ok = verifyWithCertificateKey(
      leaf.der,
      { oid: "", hash: signed.hash, key: signed.key },
      data,
      signed.signature,
    );
  } catch (error) {
    why = (error as Error).message;
  }
  if (!ok) {
    trace(`tls: server key exchange refused: ${why}\n`);
    throw new TLSError(`server key exchange: ${why}`);
  }
  return at;
}

const stockServerKeyExchange = stock.serverKeyExchange;

const serverKeyExchange = {
  __proto__: stockServerKeyExchange,
  unpacketize(session: Session, s: SSLStream): unknown {
    const kx = session.chosenCipher.keyExchangeAlgorithm;
    if (kx !== ECDHE_RSA && kx !== DHE_RSA && kx !== DHE_DSS) {
      // Static RSA: nothing signed here; the premaster secret is encrypted to the verified leaf's key.
      return stockServerKeyExchange.unpacketize(session, s);
    }
    const bytes = s.readChunk(s.bytesAvailable, true);
    const at = checkServerKeyExchange(session, bytes);
    const copy = bytes.slice();
    copy[at] = 0; // hash "none": verified above
    return stockServerKeyExchange.unpacketize(session, new SSLStream(copy));
  },
};

const handshakeProtocol = { __proto__: stock, serverKeyExchange };

export default handshakeProtocol;
