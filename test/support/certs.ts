// Test PKI made by the real `openssl` CLI: a CA and leaf certificates with
// SANs, each with a known random serial. EC P-256 keys (fast to make).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key on disk. */
export interface IssuedCert {
  readonly cert: string;
  readonly key: string;
  /** Upper-case hex, as Node's `PeerCertificate.serialNumber` reports it. */
  readonly serial: string;
}

/** What a leaf certificate says. */
export interface LeafSpec {
  readonly cn: string;
  /** e.g. `["DNS:localhost", "IP:127.0.0.1", "URI:spiffe://test/client"]` */
  readonly sans: readonly string[];
}

export interface TestPki {
  readonly dir: string;
  readonly ca: IssuedCert;
  /** Issue a leaf into `dir/<name>.{crt,key}` (server and client auth usages). */
  issue(name: string, spec: LeafSpec): IssuedCert;
  remove(): void;
}

const openssl = (args: readonly string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A random positive serial with a non-zero first nibble (so Node's hex has no leading zero). */
function newSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x6f) | 0x10;
  return bytes.toString("hex").toUpperCase();
}

/** Make a CA named `cn` in a fresh temp folder. */
export function createTestPki(cn = "grpckit test CA"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "grpckit-pki-"));
  return createPkiIn(dir, cn);
}

function createPkiIn(dir: string, cn: string): TestPki {
  const serial = newSerial();
  openssl(["req", "-x509", ...ecKey, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", `/CN=${cn}`, "-set_serial", `0x${serial}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const ca = { cert: join(dir, "ca.crt"), key: join(dir, "ca.key"), serial };
  return {
    dir,
    ca,
    issue(name, spec) {
      const leafSerial = newSerial();
      const ext = `${name}.ext`;
      writeFileSync(join(dir, ext), [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth,clientAuth",
        `subjectAltName=${spec.sans.join(",")}`,
        "",
      ].join("\n"));
      openssl(["req", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=grpckit tests/CN=${spec.cn}`], dir);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", `0x${leafSerial}`, "-days", "2",
        "-out", `${name}.crt`, "-extfile", ext], dir);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), serial: leafSerial };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A Kubernetes-style secret volume: `dir/live/{tls.crt,tls.key,ca.crt}` where
 * `live` is a symlink to a versioned folder, swapped atomically by `publish`
 * (rename of a new symlink), so a reader never sees a certificate with
 * another version's key.
 */
export class SecretVolume {
  private version = 0;
  constructor(readonly dir: string) {}
  get cert(): string { return join(this.dir, "live", "tls.crt"); }
  get key(): string { return join(this.dir, "live", "tls.key"); }
  get ca(): string { return join(this.dir, "live", "ca.crt"); }
  publish(files: { cert: string; key: string; ca: string }): void {
    const name = `v${++this.version}`;
    const versioned = join(this.dir, name);
    mkdirSync(versioned);
    for (const [from, to] of [[files.cert, "tls.crt"], [files.key, "tls.key"], [files.ca, "ca.crt"]] as const) {
      copyFileSync(from, join(versioned, to));
    }
    const tmp = join(this.dir, `live.${name}`);
    symlinkSync(name, tmp);
    renameSync(tmp, join(this.dir, "live"));
  }
}
