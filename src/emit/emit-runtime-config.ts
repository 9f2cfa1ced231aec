import type { GeneratedFile } from "@bufbuild/protoplugin";
import type { ServiceModel } from "../model/service-model.js";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { docText } from "./doc-text.js";
import { validatorName } from "./emit-validators.js";
import type { FileImports } from "./file-imports.js";

/**
 * Emit `<Service>RuntimeConfig`: what the generated server and client of a
 * service add to each call, passed to the runtime by `add<Service>()` and the
 * client constructor: request validation (methods
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
          `request validation and telemetry.`,
        generatedFrom: `service ${s.desc.typeName}`,
      }),
    ),
  );
  const type = im.runtime("ServiceRuntimeConfig", true);
  if (validated.length === 0 && !options.telemetry) {
    f.print(f.export("const", s.names.runtimeConfig), ": ", type, " = {};");
    f.print();
    return;
  }
  f.print(f.export("const", s.names.runtimeConfig), ": ", type, " = {");
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
