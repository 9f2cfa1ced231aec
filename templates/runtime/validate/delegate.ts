import type { DescExtension, DescMessage, Registry } from "@bufbuild/protobuf";
import { createRegistry } from "@bufbuild/protobuf";
import { pathToString, type Path } from "@bufbuild/protobuf/reflect";
import { ValidationRuleError, type ViolationCollector } from "./violations.js";

/** The parts of `@bufbuild/protovalidate`'s `createValidator` that delegation uses. */
export type CreateValidatorFn = (options?: { registry?: Registry; failFast?: boolean }) => {
  validate(schema: DescMessage, message: never): DelegateResult;
};
type DelegateResult =
  | { kind: "valid" }
  | { kind: "invalid"; violations: readonly { field: Path; rule: Path; ruleId: string; message: string; forKey: boolean }[] }
  | { kind: "error"; error: Error };

/**
 * A check that hands one message type to `@bufbuild/protovalidate` (for rules
 * the plugin does not compile, e.g. CEL expressions it cannot translate
 * exactly). The validator is created on the first call. `extensions` are the
 * predefined-rule extensions the message's rules use.
 *
 * Errors: a protovalidate CompilationError / RuntimeError is thrown as a
 * ValidationRuleError ("compilation" / "runtime").
 *
 * @internal Called by generated code only.
 */
export function createDelegate(
  createValidator: CreateValidatorFn,
  schema: DescMessage,
  extensions: readonly DescExtension[],
): (message: unknown, c: ViolationCollector) => void {
  let all: ReturnType<CreateValidatorFn> | undefined;
  let fast: ReturnType<CreateValidatorFn> | undefined;
  const registry = extensions.length > 0 ? createRegistry(...extensions) : undefined;
  return (message, c) => {
    const v = c.failFast
      ? (fast ??= createValidator({ registry, failFast: true }))
      : (all ??= createValidator({ registry }));
    const result = v.validate(schema, message as never);
    switch (result.kind) {
      case "valid":
        return;
      case "invalid":
        for (const x of result.violations) {
          const stop = c.push({ field: pathToString(x.field), rule: pathToString(x.rule), ruleId: x.ruleId, message: x.message, forKey: x.forKey });
          if (stop) return;
        }
        return;
      case "error": {
        const kind = result.error.name === "CompilationError" ? "compilation" : "runtime";
        throw new ValidationRuleError(kind, result.error.message, { cause: result.error });
      }
    }
  };
}
