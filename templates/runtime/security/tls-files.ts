import { accessSync, constants, readFileSync } from "node:fs";
import { ChannelCredentials, ServerCredentials, credentials, experimental, type VerifyOptions } from "@grpc/grpc-js";

/**
 * PEM files of a server's TLS identity, and optionally the CA that signs its
 * clients' certificates (mTLS).
 */
export interface ServerTlsFiles {
  /** Path of the server's certificate chain (PEM, leaf first). */
  readonly cert: string;
  /** Path of the server's private key (PEM). */
  readonly key: string;
  /**
   * Path of the CA bundle (PEM) that client certificates must chain to. When
   * set, mTLS is on: every client must present a certificate that verifies
   * against it, or its TLS handshake fails (the client sees UNAVAILABLE).
   * Default: unset (TLS only, clients are not asked for a certificate).
   */
  readonly ca?: string | undefined;
  /**
   * Re-read the files every `refreshIntervalMs` milliseconds (grpc-js
   * `experimental.FileWatcherCertificateProvider`): new connections use the
   * latest certificates, open connections keep theirs. Default: unset (read
   * once, now). Replace files atomically (write elsewhere, then rename, as
   * Kubernetes secret volumes do): a pass that reads a certificate that does
   * not match its key makes grpc-js refuse connections until the next pass.
   */
  readonly refreshIntervalMs?: number | undefined;
}

/** PEM files of a client's TLS trust and (for mTLS) identity. */
export interface ChannelTlsFiles {
  /** Path of the CA bundle (PEM) the server's certificate must chain to. Default: Node's bundled roots (required with `refreshIntervalMs`). */
  readonly ca?: string | undefined;
  /** Path of the client's certificate chain (PEM), for mTLS; set with `key`. */
  readonly cert?: string | undefined;
  /** Path of the client's private key (PEM), for mTLS; set with `cert`. */
  readonly key?: string | undefined;
  /** As {@link ServerTlsFiles.refreshIntervalMs}: re-read the files every this many milliseconds; new connections use the latest. Default: read once. */
  readonly refreshIntervalMs?: number | undefined;
  /** grpc-js verify options (`checkServerIdentity`, `rejectUnauthorized`). Default: Node's host name check against the target (or `grpc.ssl_target_name_override`). */
  readonly verify?: VerifyOptions | undefined;
}

/**
 * Server credentials from PEM files: TLS, or mTLS when `files.ca` is set
 * (client certificates required and verified against it), optionally
 * reloaded every `files.refreshIntervalMs` milliseconds without a restart.
 *
 * Built on grpc-js `ServerCredentials.createSsl` (read once) or
 * `experimental.createCertificateProviderServerCredentials` with a
 * `FileWatcherCertificateProvider` (reload; grpc-js >= 1.12).
 *
 * @throws TypeError on a bad `refreshIntervalMs`; Error naming the file when one cannot be read
 */
export function serverCredentialsFromFiles(files: ServerTlsFiles): ServerCredentials {
  const requireClientCert = files.ca !== undefined;
  if (files.refreshIntervalMs === undefined) {
    const ca = files.ca === undefined ? null : readPem(files.ca, "ca");
    const pair = { cert_chain: readPem(files.cert, "cert"), private_key: readPem(files.key, "key") };
    return ServerCredentials.createSsl(ca, [pair], requireClientCert);
  }
  const provider = watchFiles(files.refreshIntervalMs, files.cert, files.key, files.ca);
  // grpc-js 1.14 passes the function's first argument on as the *identity*
  // provider and the second as the CA provider (the parameter names say the
  // opposite); the CA provider may be null, the identity provider may not.
  return experimental.createCertificateProviderServerCredentials(provider, requireClientCert ? provider : null, requireClientCert);
}

/**
 * Channel credentials from PEM files: TLS against `files.ca` (or Node's
 * roots), with a client certificate for mTLS when `cert` and `key` are set,
 * optionally reloaded every `files.refreshIntervalMs` milliseconds (then
 * `ca` is required: grpc-js's certificate provider credentials have no
 * system roots). Pass the result to a generated client's constructor.
 *
 * Built on grpc-js `credentials.createSsl` or
 * `experimental.createCertificateProviderChannelCredentials` with a
 * `FileWatcherCertificateProvider`.
 *
 * @throws TypeError when only one of `cert`/`key` is set, on a bad `refreshIntervalMs`, or `refreshIntervalMs` without `ca`; Error naming the file when one cannot be read
 */
export function channelCredentialsFromFiles(files: ChannelTlsFiles = {}): ChannelCredentials {
  if ((files.cert === undefined) !== (files.key === undefined)) throw new TypeError("channelCredentialsFromFiles: set both cert and key, or neither");
  if (files.refreshIntervalMs === undefined) {
    const ca = files.ca === undefined ? null : readPem(files.ca, "ca");
    const key = files.key === undefined ? null : readPem(files.key, "key");
    const cert = files.cert === undefined ? null : readPem(files.cert, "cert");
    return credentials.createSsl(ca, key, cert, files.verify);
  }
  if (files.ca === undefined) throw new TypeError("channelCredentialsFromFiles: refreshIntervalMs needs a ca file (grpc-js certificate providers have no system roots)");
  const provider = watchFiles(files.refreshIntervalMs, files.cert, files.key, files.ca);
  return experimental.createCertificateProviderChannelCredentials(provider, files.cert === undefined ? null : provider, files.verify);
}

/** @internal One file watcher for all the files; checks they are readable now, so a typo fails at startup. */
function watchFiles(refreshIntervalMs: number, cert: string | undefined, key: string | undefined, ca: string | undefined): experimental.FileWatcherCertificateProvider {
  if (!Number.isSafeInteger(refreshIntervalMs) || refreshIntervalMs < 1) {
    throw new TypeError(`refreshIntervalMs must be a positive integer number of milliseconds, got ${String(refreshIntervalMs)}`);
  }
  for (const [path, what] of [[cert, "cert"], [key, "key"], [ca, "ca"]] as const) {
    if (path !== undefined) checkReadable(path, what);
  }
  return new experimental.FileWatcherCertificateProvider({
    certificateFile: cert,
    privateKeyFile: key,
    caCertificateFile: ca,
    refreshIntervalMs,
  });
}

/** @internal */
function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`TLS ${what} file ${JSON.stringify(path)} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** @internal */
function checkReadable(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw new Error(`TLS ${what} file ${JSON.stringify(path)} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
