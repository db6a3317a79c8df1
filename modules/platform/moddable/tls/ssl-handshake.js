// "ssl/handshake" for the SDK's TLS client: the SDK's handshake with capsync's ServerKeyExchange guard (see handshake-guard.ts).
export { default } from "modules/platform/moddable/tls/handshake-guard";
