import { GrpcError, Status } from "../grpc-error.js";

/** A bearer token and when it expires. */
export interface AccessToken {
  /** The token, sent as `authorization: Bearer <token>`; visible ASCII (0x21 to 0x7E), not empty. */
  readonly token: string;
  /** Expiry as milliseconds since the epoch (the `Date.now()` clock). Default: never expires (cached until `invalidate()`). */
  readonly expiresAtMs?: number | undefined;
}

/**
 * Fetches a fresh token (an OAuth2 client, a cloud metadata server, a file a
 * sidecar writes). `signal` aborts when the fetch timed out. A plain string
 * is a token that never expires. Throw a `GrpcError` with
 * `UNAUTHENTICATED` (or `PERMISSION_DENIED`) when the credential itself is
 * refused (calls then fail UNAUTHENTICATED); any other failure is
 * transient (calls fail UNAVAILABLE, which callers may retry).
 */
export type TokenSource = (signal: AbortSignal) => Promise<AccessToken | string>;

/** Options of {@link createBearerTokens}. */
export interface BearerTokensOptions {
  /**
   * Start refreshing this many milliseconds before expiry: calls meanwhile
   * still get the current token, and one background fetch replaces it.
   * Default 30 000 ms. Keep it below the tokens' lifetime.
   */
  readonly refreshBeforeExpiryMs?: number | undefined;
  /** Give up on one fetch after this many milliseconds (calls waiting for it fail UNAVAILABLE). Default 10 000 ms. */
  readonly fetchTimeoutMs?: number | undefined;
  /** Sees every fetch failure, for local logging; its text never reaches the call status or the wire. Default: none. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A token cache shared by every call of the clients that use it. */
export interface BearerTokens {
  /**
   * The current token: the cached one while it is fresh, else the result of
   * the one fetch in flight (concurrent callers share it).
   * @throws GrpcError UNAUTHENTICATED (credential refused, or a malformed token) or UNAVAILABLE (fetch failed or timed out), with a fixed message
   */
  token(): Promise<string>;
  /** Forget the cached token (e.g. after the server answered UNAUTHENTICATED); the next call fetches. */
  invalidate(): void;
}

interface Cached {
  readonly token: string;
  readonly expiresAtMs: number;
}

const visibleAscii = /^[\x21-\x7e]+$/;

/**
 * A cache of bearer tokens from `source`: cached until `refreshBeforeExpiryMs`
 * before expiry, then refreshed in the background while still valid; at most
 * one fetch in flight; a failed fetch is not cached (the next call tries
 * again). Pass it to `bearerCallCredentials` (TLS channels) or
 * `bearerTokenInterceptor` (insecure channels, explicitly).
 *
 * @throws TypeError on bad options
 */
export function createBearerTokens(source: TokenSource, options: BearerTokensOptions = {}): BearerTokens {
  const refreshBeforeMs = checkMs(options.refreshBeforeExpiryMs ?? 30_000, "refreshBeforeExpiryMs", 0);
  const fetchTimeoutMs = checkMs(options.fetchTimeoutMs ?? 10_000, "fetchTimeoutMs", 1);
  let cached: Cached | undefined;
  let inflight: Promise<Cached> | undefined;

  const refresh = (): Promise<Cached> => {
    inflight ??= fetchToken(source, fetchTimeoutMs).then(
      (fresh) => {
        inflight = undefined;
        cached = fresh;
        return fresh;
      },
      (error: unknown) => {
        inflight = undefined;
        options.onError?.(error);
        throw publicError(error);
      },
    );
    return inflight;
  };

  return {
    async token() {
      const now = Date.now();
      if (cached !== undefined && now < cached.expiresAtMs) {
        if (now >= cached.expiresAtMs - refreshBeforeMs) refresh().catch(() => {});
        return cached.token;
      }
      return (await refresh()).token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** @internal One fetch with its own timeout; the timer is cleared whatever ends it. */
async function fetchToken(source: TokenSource, timeoutMs: number): Promise<Cached> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TokenFetchTimeout(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => source(controller.signal)), timeout]);
    const entry = typeof result === "string" ? { token: result, expiresAtMs: Infinity } : { token: result?.token, expiresAtMs: result?.expiresAtMs ?? Infinity };
    if (typeof entry.token !== "string" || !visibleAscii.test(entry.token)) throw new MalformedToken();
    if (typeof entry.expiresAtMs !== "number" || Number.isNaN(entry.expiresAtMs)) throw new MalformedToken();
    return entry;
  } finally {
    clearTimeout(timer);
  }
}

/** @internal The status a failed fetch gives the call: a fixed message, never the cause's text. */
function publicError(error: unknown): GrpcError {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof MalformedToken || code === Status.UNAUTHENTICATED || code === Status.PERMISSION_DENIED) {
    return new GrpcError(Status.UNAUTHENTICATED, "bearer token refused by its source");
  }
  return new GrpcError(Status.UNAVAILABLE, "bearer token unavailable");
}

/** Raised (to `onError`, and as the fetch signal's reason) when a token fetch exceeded `fetchTimeoutMs`. */
export class TokenFetchTimeout extends Error {
  override name = "TokenFetchTimeout";
  constructor(readonly timeoutMs: number) {
    super(`token fetch timed out after ${timeoutMs} ms`);
  }
}

/** Raised (to `onError`) when the source returned an empty token, one with characters outside visible ASCII, or a bad expiry. */
export class MalformedToken extends Error {
  override name = "MalformedToken";
  constructor() {
    super("token source returned a malformed token");
  }
}

/** @internal */
function checkMs(value: number, name: string, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new TypeError(`${name} must be a number of milliseconds >= ${min}, got ${String(value)}`);
  return value;
}
