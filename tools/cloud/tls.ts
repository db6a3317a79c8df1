/*
 * Test TLS material: a throwaway CA and a server certificate for 127.0.0.1
 * and localhost signed by it, made with the openssl CLI (Node cannot issue
 * X.509 certificates itself). No network involved. RSA 2048 because that is
 * what every client here verifies, Moddable's TLS 1.2 SecureSocket included.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface CloudTls {
  /** PEM CA certificate clients trust. */
  ca: string;
  /** PEM server private key. */
  key: string;
  /** PEM server certificate (chains to `ca`). */
  cert: string;
}

export function makeTestCertificates(hosts: string[] = ["127.0.0.1", "localhost"]): CloudTls {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capsync-tls-"));
  const p = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-sha256",
      "-days",
      "2",
      "-subj",
      "/CN=capsync test CA",
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.pem"),
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=capsync local cloud",
      "-keyout",
      p("server.key"),
      "-out",
      p("server.csr"),
    );
    const san = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(":") ? `IP:${h}` : `DNS:${h}`)).join(",");
    fs.writeFileSync(
      p("ext.cnf"),
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
    );
    run(
      "x509",
      "-req",
      "-in",
      p("server.csr"),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      p("ext.cnf"),
      "-out",
      p("server.pem"),
    );
    return {
      ca: fs.readFileSync(p("ca.pem"), "utf8"),
      key: fs.readFileSync(p("server.key"), "utf8"),
      cert: fs.readFileSync(p("server.pem"), "utf8"),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
