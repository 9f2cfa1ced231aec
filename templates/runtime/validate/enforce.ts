import type { HookProvider } from "../service-config.js";
import { createValidationClientHook, createValidationServerHook, type MessageValidator } from "./bad-request.js";

/** Method path (`/pkg.Svc/Method`) -> the generated `validate<Input>()` of its input type. */
export type RequestValidators = Readonly<Record<string, MessageValidator>>;

/** The request validation of a service: its validators, and the hooks that enforce them. */
export interface RequestValidation extends HookProvider {
  /** Method path -> validator, for the methods whose input type has rules. */
  readonly validators: RequestValidators;
}

/**
 * Request validation of one service, for its generated `<Service>RuntimeConfig`
 * (`validation: requestValidation({...})`). Methods without an entry are not
 * validated (no hook runs for them).
 *
 * - Servers validate every request message (each message of client and bidi
 *   streams too) before the handler sees it, unless registered with
 *   `validateRequests: false`; an invalid one fails the call with
 *   INVALID_ARGUMENT and a `google.rpc.BadRequest` detail listing the field
 *   violations (protovalidate field path, message, rule_id as `reason`).
 * - Clients validate before sending only when created with
 *   `validateRequests: true`; an invalid request fails the call locally with
 *   the same error, nothing is sent.
 */
export function requestValidation(validators: RequestValidators): RequestValidation {
  return {
    validators,
    serverHook: (options) => ((options as { validateRequests?: boolean }).validateRequests === false ? undefined : createValidationServerHook(validators)),
    clientHook: (options) => ((options as { validateRequests?: boolean }).validateRequests === true ? createValidationClientHook(validators) : undefined),
  };
}
