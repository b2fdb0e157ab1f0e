// A client-certificate authority of its own name for TLS rotation tests: makeTlsFiles names every
// CA alike, and a server that trusts two CAs of one subject picks by name and fails the handshake.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** A CA named `name` and a client certificate it signed, as PEM files in `dir`/`name`. */
export interface ClientCa {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: readonly string[], cwd: string): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
}

/** Makes the CA and client certificate (EC P-256, valid 2 days). */
export function makeClientCa(dir: string, name: string): ClientCa {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", `/CN=${name}-ca`], at);
  openssl(["req", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", `/CN=${name}-client`], at);
  openssl(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2"], at);
  return { caFile: join(at, "ca.crt"), certFile: join(at, "client.crt"), keyFile: join(at, "client.key") };
}
