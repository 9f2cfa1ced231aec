import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { ServiceModel } from "../model/service-model.js";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { docText } from "./doc-text.js";
import { validatorName } from "./emit-validators.js";
import type { FileImports } from "./file-imports.js";
import { printConst, pure, type Target } from "./emit-target.js";

/**
 * Emit `<Service>RuntimeConfig`: what the generated server and client of a
 * service add to each call, passed to the runtime by `add<Service>()` and the
 * client constructor: request validation (methods
 * whose input type has buf.validate rules) and telemetry. Behaviour lives in
 * the runtime; this is data and references.
 */
export function emitRuntimeConfig(
  f: GeneratedFile,
  t: Target,
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
          `request validation and telemetry.`,
        generatedFrom: `service ${s.desc.typeName}`,
      }),
    ),
  );
  const type = im.runtime("ServiceRuntimeConfig", true);
  if (t === "dts" || (validated.length === 0 && !options.telemetry)) {
    printConst(f, t, s.names.runtimeConfig, type, ["{}"]);
    f.print();
    return;
  }
  const lines: Printable[] = ["{"];
  if (validated.length > 0) {
    lines.push(["  validation: ", pure, im.validate("requestValidation"), "({"]);
    for (const m of validated) {
      const input = m.desc.input;
      const fn = f.import(validatorName("validate", im.shape(input).name), `./${input.file.name}_validate.js`);
      lines.push(["    ", JSON.stringify(m.path), ": ", fn, ","]);
    }
    lines.push("  }),");
  }
  if (options.telemetry) lines.push(["  telemetry: ", im.telemetry("telemetryHooks"), ","]);
  lines.push("}");
  printConst(f, t, s.names.runtimeConfig, type, lines);
  f.print();
}
