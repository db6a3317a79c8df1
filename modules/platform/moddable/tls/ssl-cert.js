// "ssl/cert" for the SDK's TLS client: capsync's verifying CertificateManager (see certificate-manager.ts).
export { default } from "modules/platform/moddable/tls/certificate-manager";
