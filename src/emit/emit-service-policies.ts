import type { GeneratedFile } from "@bufbuild/protoplugin";
import type { ServicePolicyModel } from "../model/retry-policy.js";
import type { ServiceModel } from "../model/service-model.js";
import type { FileImports } from "./file-imports.js";

/** The name of a service's policy table constant, e.g. `EchoServicePolicies`. */
export function policiesName(s: ServiceModel): string {
  return `${s.desc.name}Policies`;
}

/**
 * Emit a service's call policy table: a constant the generated client passes
 * to its transport (`transport.setPolicies`). Behaviour lives in the runtime.
 */
export function emitServicePolicies(f: GeneratedFile, s: ServiceModel, p: ServicePolicyModel, im: FileImports): void {
  const codes = (list: readonly (readonly [number, string])[]) => list.map(([n, name]) => `${n} /* ${name} */`).join(", ");
  f.print("/** Call policies of ", s.desc.typeName, " from the plugin options (gRFC A6; durations in milliseconds). */");
  f.print("const ", policiesName(s), ": ", im.runtime("ServicePolicies", true), " = {");
  if (p.retry) {
    const r = p.retry;
    f.print(`  retry: { maxAttempts: ${r.maxAttempts}, initialBackoffMs: ${r.initialBackoffMs}, maxBackoffMs: ${r.maxBackoffMs}, backoffMultiplier: ${r.backoffMultiplier}, retryableCodes: [${codes(r.retryableCodes)}] },`);
  }
  if (p.hedging) {
    const h = p.hedging;
    f.print(`  hedging: { maxAttempts: ${h.maxAttempts}, hedgingDelayMs: ${h.hedgingDelayMs}, nonFatalCodes: [${codes(h.nonFatalCodes)}] },`);
  }
  if (p.throttling) f.print(`  throttling: { maxTokens: ${p.throttling.maxTokens}, tokenRatio: ${p.throttling.tokenRatio} },`);
  if (p.timeoutMs !== undefined) f.print(`  timeoutMs: ${p.timeoutMs},`);
  if (p.methodTimeouts.length > 0) {
    f.print("  methods: {");
    for (const [name, ms] of p.methodTimeouts) f.print(`    ${name}: { timeoutMs: ${ms} },`);
    f.print("  },");
  }
  f.print("};");
  f.print();
}
