import { GrpcError, Status } from "./grpc-error.js";
import type { HandlerContext } from "./server-context.js";

/**
 * Server-side per-call authentication (issue 10, "Per-call auth"): a step
 * that runs for every call after the concurrency limits and before request
 * validation and the handler.
 *
 * It returns the call's principal (any value but `undefined`, e.g. a user
 * record), which the handler reads as `ctx.principal`. To refuse a call it
 * throws a GrpcError with UNAUTHENTICATED (no or bad credentials) or
 * PERMISSION_DENIED (known caller, not allowed): the client gets that code and
 * message. Anything else it throws or returns (another code, a plain Error,
 * `undefined`) answers UNAUTHENTICATED with the fixed message
 * {@link unauthenticatedMessage}, so a reply never reveals why a credential
 * failed. The handler never runs for a refused call.
 *
 * `ctx.requestMetadata` holds the credentials (e.g. `authorization`),
 * `ctx.peerIdentity` the verified TLS client certificate under mTLS.
 */
export type Authenticator = (ctx: HandlerContext) => unknown;

/** Server options of per-call authentication. */
export interface ServerAuthOptions {
  /** See {@link Authenticator}. Default: none (every call is served, `ctx.principal` is undefined). */
  readonly authenticate?: Authenticator;
  /**
   * Called with what `authenticate` threw (or a TypeError when it returned
   * `undefined`) for every refused call, for logging and metrics: the client
   * never sees it. Default: none.
   */
  readonly onAuthenticationError?: (error: unknown, ctx: HandlerContext) => void;
}

/** The message of every UNAUTHENTICATED reply the runtime makes. */
export const unauthenticatedMessage = "unauthenticated";

/** The authentication step of a service's calls, or undefined without `authenticate`. @internal */
export function authenticationStep(options: ServerAuthOptions): ((ctx: HandlerContext) => Promise<void>) | undefined {
  const { authenticate, onAuthenticationError } = options;
  if (authenticate === undefined) return undefined;
  if (typeof authenticate !== "function") throw new TypeError("authenticate must be a function");
  return async (ctx) => {
    let principal: unknown;
    try {
      principal = await authenticate(ctx);
      if (principal === undefined) throw new TypeError("authenticate returned undefined");
    } catch (err) {
      seeRefusal(onAuthenticationError, err, ctx);
      throw refusal(err);
    }
    (ctx as { principal: unknown }).principal = principal;
  };
}

/** `onAuthenticationError(err, ctx)`; one that throws is logged with `console.error` and changes nothing for the client. */
function seeRefusal(onAuthenticationError: ServerAuthOptions["onAuthenticationError"], err: unknown, ctx: HandlerContext): void {
  try {
    onAuthenticationError?.(err, ctx);
  } catch (callbackError) {
    console.error(`protoc-gen-grpckit: onAuthenticationError threw for ${ctx.path}:`, callbackError);
  }
}

function refusal(err: unknown): GrpcError {
  const forwarded = err instanceof GrpcError && err.origin !== "local" && (err.code === Status.UNAUTHENTICATED || err.code === Status.PERMISSION_DENIED);
  return forwarded ? new GrpcError(err.code, err.rawMessage, { details: err.details }) : new GrpcError(Status.UNAUTHENTICATED, unauthenticatedMessage);
}

/**
 * An {@link Authenticator} for `authorization: Bearer <token>` (RFC 6750; the
 * scheme is case-insensitive). `verify(token, ctx)` returns the principal,
 * or throws / returns `undefined` for a token it does not accept (the call is
 * answered UNAUTHENTICATED "unauthenticated"); it may throw
 * PERMISSION_DENIED itself. A call without the header, with another scheme
 * or with several `authorization` values is refused the same way, without
 * calling `verify`.
 */
export function bearerAuthenticator(verify: (token: string, ctx: HandlerContext) => unknown): Authenticator {
  return (ctx) => {
    const values = ctx.requestMetadata.get("authorization");
    const header = values.length === 1 ? values[0] : undefined;
    const match = typeof header === "string" ? /^bearer +([^\s]+) *$/i.exec(header) : null;
    if (match === null) throw new GrpcError(Status.UNAUTHENTICATED, unauthenticatedMessage);
    return verify(match[1] as string, ctx);
  };
}
