import type { Channel, ChannelCredentials } from "@grpc/grpc-js";
import type { ClientOptions } from "../client.js";
import type { ServerOptions } from "../server.js";
import { createValidationClientHook, createValidationServerHook, type MessageValidator } from "./bad-request.js";

/**
 * Request validation wired into generated servers and clients. Generated
 * `_grpckit` files hold, per service whose methods have validated input
 * types, a `<Service>RequestValidators` map (method path `/pkg.Svc/Method`
 * -> generated `validate<Input>()`), and pass it to the functions below.
 */

/** Method path (`/pkg.Svc/Method`) -> the generated validator of its input type. */
export type RequestValidators = Readonly<Record<string, MessageValidator>>;

/** Run-time switch of request validation on a server (generated `add<Service>` options). */
export interface ServerValidationOptions {
  /**
   * Validate every request message (each message of client and bidi streams
   * too) before the handler sees it; an invalid one fails the call with
   * INVALID_ARGUMENT and a `google.rpc.BadRequest` detail. Default `true`.
   */
  readonly validateRequests?: boolean;
}

/** Run-time switch of request validation on a client (generated client options). */
export interface ClientValidationOptions {
  /**
   * Validate each request message before it is sent; an invalid one fails
   * the call locally (nothing is sent) with the INVALID_ARGUMENT error a
   * validating server would answer. Default `false`.
   */
  readonly validateRequests?: boolean;
}

/**
 * Server options with the request-validation hook added as the innermost
 * hook (after the caller's hooks, so e.g. telemetry and authentication run
 * first), unless `validateRequests: false`. Returns the options without
 * `validateRequests`.
 */
export function withRequestValidation<O extends ServerOptions>(validators: RequestValidators, options?: O & ServerValidationOptions): O {
  const { validateRequests, ...rest } = (options ?? {}) as O & ServerValidationOptions;
  if (validateRequests === false) return rest as unknown as O;
  return { ...rest, hooks: [...(rest.hooks ?? []), createValidationServerHook(validators)] } as unknown as O;
}

/**
 * The arguments of a generated client constructor (`(address, credentials,
 * options?)` or `(channel, options?)`) with the request-validation client
 * hook added as the innermost hook when `validateRequests: true`. Returns
 * `[target, credentialsOrOptions, options]` for the transport factory, with
 * `validateRequests` removed.
 */
export function withClientValidation<O extends ClientOptions>(
  validators: RequestValidators,
  target: string | Channel,
  credentialsOrOptions?: ChannelCredentials | (O & ClientValidationOptions),
  options?: O & ClientValidationOptions,
): [string | Channel, ChannelCredentials | O | undefined, O | undefined] {
  const byAddress = typeof target === "string";
  const given = byAddress ? options : (credentialsOrOptions as (O & ClientValidationOptions) | undefined);
  if (given === undefined || !("validateRequests" in given)) return [target, credentialsOrOptions as ChannelCredentials | O | undefined, options];
  const { validateRequests, ...rest } = given;
  const resolved = (validateRequests === true ? { ...rest, hooks: [...(rest.hooks ?? []), createValidationClientHook(validators)] } : rest) as unknown as O;
  return byAddress ? [target, credentialsOrOptions as ChannelCredentials | undefined, resolved] : [target, resolved, undefined];
}
