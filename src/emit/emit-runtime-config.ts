import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { ServicePolicyModel } from "../model/retry-policy.js";
import type { ServiceModel } from "../model/service-model.js";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { docText } from "./doc-text.js";
import { validatorName } from "./emit-validators.js";
import type { FileImports } from "./file-imports.js";

/**
 * Emit `<Service>RuntimeConfig`: what the generated server and client of a
 * service add to each call, passed to the runtime by `add<Service>()` and the
 * client constructor: call policies (clients), request validation (methods
 * whose input type has buf.validate rules) and telemetry. Behaviour lives in
 * the runtime; this is data and references.
 */
export function emitRuntimeConfig(
  f: GeneratedFile,
  s: ServiceModel,
  im: FileImports,
  options: Pick<GrpckitOptions, "telemetry">,
  validators: GeneratedValidators | undefined,
): void {
  const validated = validators === undefined ? [] : s.methods.filter((m) => validators.hasValidator(m.desc.input));
  f.print(
    f.jsDoc(
      docText({
        summary:
          `What the generated server and client of ${s.desc.typeName} add to each call: ` +
          `call policies from the plugin options (gRFC A6; durations in milliseconds), request validation and telemetry.`,
        generatedFrom: `service ${s.desc.typeName}`,
      }),
    ),
  );
  const type = im.runtime("ServiceRuntimeConfig", true);
  if (s.policies === undefined && validated.length === 0 && !options.telemetry) {
    f.print(f.export("const", s.names.runtimeConfig), ": ", type, " = {};");
    f.print();
    return;
  }
  f.print(f.export("const", s.names.runtimeConfig), ": ", type, " = {");
  if (s.policies !== undefined) emitPolicies(f, s.policies);
  if (validated.length > 0) {
    f.print("  validation: ", im.validate("requestValidation"), "({");
    for (const m of validated) {
      const input = m.desc.input;
      const fn = f.import(validatorName("validate", im.shape(input).name), `./${input.file.name}_validate.js`);
      f.print("    ", JSON.stringify(m.path), ": ", fn, ",");
    }
    f.print("  }),");
  }
  if (options.telemetry) f.print("  telemetry: ", im.telemetry("telemetryHooks"), ",");
  f.print("};");
  f.print();
}

function emitPolicies(f: GeneratedFile, p: ServicePolicyModel): void {
  const lines: Printable[] = [];
  const codes = (list: readonly (readonly [number, string])[]) => list.map(([n, name]) => `${n} /* ${name} */`).join(", ");
  if (p.retry) {
    const r = p.retry;
    lines.push(`    retry: { maxAttempts: ${r.maxAttempts}, initialBackoffMs: ${r.initialBackoffMs}, maxBackoffMs: ${r.maxBackoffMs}, backoffMultiplier: ${r.backoffMultiplier}, retryableCodes: [${codes(r.retryableCodes)}] },`);
  }
  if (p.hedging) {
    const h = p.hedging;
    lines.push(`    hedging: { maxAttempts: ${h.maxAttempts}, hedgingDelayMs: ${h.hedgingDelayMs}, nonFatalCodes: [${codes(h.nonFatalCodes)}] },`);
  }
  if (p.throttling) lines.push(`    throttling: { maxTokens: ${p.throttling.maxTokens}, tokenRatio: ${p.throttling.tokenRatio} },`);
  if (p.timeoutMs !== undefined) lines.push(`    timeoutMs: ${p.timeoutMs},`);
  if (lines.length === 0 && p.methodTimeouts.length === 0) return;
  f.print("  policies: {");
  for (const line of lines) f.print(line);
  if (p.methodTimeouts.length > 0) {
    f.print("    methods: {");
    for (const [name, ms] of p.methodTimeouts) f.print(`      ${name}: { timeoutMs: ${ms} },`);
    f.print("    },");
  }
  f.print("  },");
}
