import type { DescMethod } from "@bufbuild/protobuf";
import { badRequestError } from "../error-details.js";
import type { GrpcError } from "../grpc-error.js";
import type { ClientHook, ServerHook } from "../hooks.js";
import type { ValidationResult, Violation } from "./violations.js";

/** A generated `validate<Message>()` function. */
export type MessageValidator = (message: never, options?: { failFast?: boolean }) => ValidationResult;

/**
 * The INVALID_ARGUMENT GrpcError for violations: a `google.rpc.BadRequest`
 * detail with one FieldViolation per violation (`field` = the violation's
 * field path, `description` = its message, `reason` = its rule_id), and the
 * status message `invalid request: <field>: <message>; ...`.
 */
export function violationsError(violations: readonly Violation[]): GrpcError {
  const items = violations.map((v) => ({ field: v.field, description: v.message, reason: v.ruleId }));
  const text = violations.map((v) => (v.field === "" ? v.message : `${v.field}: ${v.message}`)).join("; ");
  return badRequestError(items, `invalid request: ${text}`);
}

/**
 * Throw unless `result` is valid: violations become {@link violationsError};
 * a rule that cannot be evaluated becomes INTERNAL (the server's rules are
 * broken, not the request).
 */
export function assertValid(result: ValidationResult): void {
  if (result.kind === "valid") return;
  if (result.kind === "invalid") throw violationsError(result.violations);
  throw result.error;
}

/**
 * A server hook that validates each request message (every message of a
 * client or bidi stream) with the validator of the method's input type,
 * before the handler sees it. `validators` maps method paths
 * (`/pkg.Svc/Method`) to generated `validate<Message>()` functions; methods
 * without an entry are not validated. Violations answer INVALID_ARGUMENT with
 * a BadRequest; a broken rule (ValidationRuleError) answers INTERNAL.
 */
export function createValidationServerHook(validators: Readonly<Record<string, MessageValidator>>): ServerHook {
  const perMethod = createMethodLookup(validators);
  return (method) => perMethod(method);
}

/**
 * A client hook (opt-in) that validates each request message before it is
 * sent, failing the call locally with the same INVALID_ARGUMENT error
 * (BadRequest detail) a validating server answers. `validators` as for
 * {@link createValidationServerHook} (generated `<Service>Validators`).
 */
export function createValidationClientHook(validators: Readonly<Record<string, MessageValidator>>): ClientHook {
  const perMethod = createMethodLookup(validators);
  return (start) => perMethod(start.method);
}

/** The per-call hooks of each method (undefined when its input is not validated), resolved once per method. */
function createMethodLookup(validators: Readonly<Record<string, MessageValidator>>): (method: DescMethod) => { request(message: unknown): void } | undefined {
  const cache = new Map<DescMethod, { request(message: unknown): void } | undefined>();
  return (method) => {
    if (cache.has(method)) return cache.get(method);
    const validate = Object.prototype.hasOwnProperty.call(validators, `/${method.parent.typeName}/${method.name}`)
      ? validators[`/${method.parent.typeName}/${method.name}`]
      : undefined;
    const hooks = validate && { request: (message: unknown) => assertValid(validate(message as never)) };
    cache.set(method, hooks);
    return hooks;
  };
}
