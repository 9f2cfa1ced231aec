import {
  CallCredentials,
  InterceptingCall,
  Metadata,
  credentials,
  type ChannelCredentials,
  type Interceptor,
  type InterceptingListener,
  type StatusObject,
} from "@grpc/grpc-js";
import { Status } from "../grpc-error.js";
import type { BearerTokens } from "./bearer-tokens.js";

/**
 * grpc-js call credentials that add `authorization: Bearer <token>` to every
 * call, from `tokens` (see `createBearerTokens`). grpc-js sends call
 * credentials only on secure channels: combine them with TLS channel
 * credentials (`withBearerToken`, or grpc-js `credentials.combineChannelCredentials`);
 * grpc-js refuses to combine them with insecure ones.
 *
 * A failed token fetch fails the call, before anything is sent, with
 * UNAUTHENTICATED or UNAVAILABLE (see `BearerTokens.token`) and a fixed
 * message (grpc-js prefixes it with "Getting metadata from plugin failed").
 */
export function bearerCallCredentials(tokens: BearerTokens): CallCredentials {
  return CallCredentials.createFromMetadataGenerator((_options, callback) => {
    tokens.token().then(
      (token) => callback(null, bearerMetadata(token)),
      (error: Error) => callback(error),
    );
  });
}

/**
 * TLS channel credentials that also send the bearer token of `tokens` on
 * every call; pass the result to a generated client's constructor.
 * @throws TypeError when `channel` is insecure (use `bearerTokenInterceptor`
 *   with `allowInsecure: true` for local development)
 */
export function withBearerToken(channel: ChannelCredentials, tokens: BearerTokens): ChannelCredentials {
  if (!channel._isSecure()) {
    throw new TypeError("withBearerToken: refusing to send bearer tokens over an insecure channel (bearerTokenInterceptor(tokens, { allowInsecure: true }) for local development)");
  }
  return credentials.combineChannelCredentials(channel, bearerCallCredentials(tokens));
}

/** Options of {@link bearerTokenInterceptor}. */
export interface BearerTokenInterceptorOptions {
  /**
   * Must be `true`: the interceptor sends the token whatever the channel,
   * plaintext included, where anyone on the path can read it. Meant for
   * local development against a plaintext server; use `withBearerToken`
   * with TLS everywhere else.
   */
  readonly allowInsecure: true;
}

/**
 * A grpc-js client interceptor (`ClientOptions.interceptors`) that adds
 * `authorization: Bearer <token>` from `tokens` to every call, on any
 * channel, plaintext included: the explicit opt-in for local development.
 * The call starts once the token is known; a failed fetch ends it with
 * UNAUTHENTICATED or UNAVAILABLE before anything is sent; cancellation and
 * the call's deadline end a call still waiting for its token (CANCELLED,
 * DEADLINE_EXCEEDED).
 *
 * @throws TypeError unless `options.allowInsecure` is `true`
 */
export function bearerTokenInterceptor(tokens: BearerTokens, options: BearerTokenInterceptorOptions): Interceptor {
  if ((options as { allowInsecure?: unknown } | undefined)?.allowInsecure !== true) {
    throw new TypeError("bearerTokenInterceptor sends tokens in plaintext on insecure channels: pass { allowInsecure: true } to confirm, or use withBearerToken with TLS");
  }
  return (callOptions, nextCall) => {
    const deadline = callOptions.deadline;
    const deadlineMs = deadline === undefined ? Infinity : deadline instanceof Date ? deadline.getTime() : deadline;
    let waiting: { listener: InterceptingListener; timer: ReturnType<typeof setTimeout> | undefined } | undefined;
    const finish = (status: Pick<StatusObject, "code" | "details">): void => {
      if (waiting === undefined) return;
      const { listener, timer } = waiting;
      waiting = undefined;
      clearTimeout(timer);
      listener.onReceiveStatus({ ...status, metadata: new Metadata() });
    };
    return new InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        const timer = Number.isFinite(deadlineMs) ? setTimeout(() => finish({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded while waiting for a bearer token" }), Math.max(0, deadlineMs - Date.now())) : undefined;
        waiting = { listener: listener as InterceptingListener, timer };
        tokens.token().then(
          (token) => {
            if (waiting === undefined) return;
            clearTimeout(waiting.timer);
            waiting = undefined;
            metadata.set("authorization", `Bearer ${token}`);
            next(metadata, listener);
          },
          (error: { code: number; message: string }) => finish({ code: error.code, details: error.message }),
        );
      },
      cancel(next) {
        if (waiting === undefined) return next();
        finish({ code: Status.CANCELLED, details: "Cancelled on client" });
      },
    });
  };
}

/** @internal */
function bearerMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}
