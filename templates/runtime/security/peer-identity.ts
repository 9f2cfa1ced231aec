import type { PeerCertificate } from "node:tls";

/**
 * What grpc-js `call.getAuthContext()` returns (grpc-js >= 1.14): set only
 * for TLS connections whose peer certificate verified. Declared here so the
 * runtime also type-checks against older grpc-js versions.
 */
export interface AuthContextLike {
  readonly transportSecurityType?: string | undefined;
  readonly sslPeerCertificate?: PeerCertificate | undefined;
}

/** Subject alternative names of a certificate, by kind, in certificate order. */
export interface SubjectAltNames {
  /** `DNS:` entries, e.g. `localhost`. */
  readonly dns: readonly string[];
  /** `URI:` entries, e.g. a SPIFFE ID `spiffe://example.org/ns/default/sa/api`. */
  readonly uri: readonly string[];
  /** `IP Address:` entries, e.g. `127.0.0.1`, `::1`. */
  readonly ip: readonly string[];
  /** `email:` entries. */
  readonly email: readonly string[];
}

/** The verified identity of a peer, from its TLS certificate. */
export interface PeerIdentity {
  /** Subject distinguished name attributes as Node reports them, e.g. `{ CN: "api", O: "Acme" }` (a repeated attribute is an array). */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
  /** Issuer distinguished name attributes, same shape as `subject`. */
  readonly issuer: Readonly<Record<string, string | readonly string[]>>;
  readonly subjectAltNames: SubjectAltNames;
  /** Serial number in upper-case hex, as Node reports it (e.g. `"1A2B"`). */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  readonly fingerprint256: string;
  /** End of validity, as Node reports it (e.g. `"Dec  1 23:00:00 2027 GMT"`). */
  readonly validTo: string;
}

/**
 * The call's grpc-js auth context, when this grpc-js has `getAuthContext`
 * (1.14.0 and later); `undefined` on older versions.
 */
export function authContextOf(call: object): AuthContextLike | undefined {
  const get = (call as { getAuthContext?: unknown }).getAuthContext;
  if (typeof get !== "function") return undefined;
  return (get.call(call) as AuthContextLike | null) ?? undefined;
}

/**
 * The verified peer identity in an auth context: `undefined` unless the
 * connection is TLS and the peer presented a certificate that verified
 * (grpc-js reports nothing for unverified peers). On the server that means
 * mTLS; on a plaintext connection it is always `undefined`.
 *
 * SANs are parsed from Node's `subjectaltname` string (RFC 5280 general
 * names; values Node quotes, as JSON strings, are unquoted).
 */
export function peerIdentity(authContext: AuthContextLike | null | undefined): PeerIdentity | undefined {
  const cert = authContext?.sslPeerCertificate;
  if (authContext?.transportSecurityType !== "ssl" || cert === undefined || !cert.raw) return undefined;
  return {
    subject: attributes(cert.subject),
    issuer: attributes(cert.issuer),
    subjectAltNames: parseSubjectAltNames(cert.subjectaltname ?? ""),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validTo: cert.valid_to,
  };
}

/** @internal Node's subject object has a null prototype; copy it to a plain frozen object. */
function attributes(dn: object | undefined): Readonly<Record<string, string | readonly string[]>> {
  return Object.freeze({ ...(dn as Record<string, string | string[]> | undefined) });
}

const kinds: Readonly<Record<string, keyof SubjectAltNames>> = { DNS: "dns", URI: "uri", "IP Address": "ip", email: "email" };

/**
 * Parse Node's `subjectaltname` (`"DNS:a, IP Address:127.0.0.1, URI:spiffe://x"`);
 * kinds other than DNS, URI, IP Address and email are skipped.
 * @internal
 */
export function parseSubjectAltNames(text: string): SubjectAltNames {
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = closingQuote(text, colon + 2);
      if (end < 0) break;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      end += 1;
    } else {
      end = text.indexOf(", ", colon + 1);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    const key = kinds[kind];
    if (key !== undefined) out[key].push(value);
    i = end + 2;
  }
  return out;
}

/** @internal Index of the quote that closes a JSON string starting at `from`, -1 if none. */
function closingQuote(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j;
  }
  return -1;
}
