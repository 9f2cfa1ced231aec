import type { GeneratedFile } from "@bufbuild/protoplugin";
import type { ServiceModel } from "../model/service-model.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";
import { validatorName } from "./emit-validators.js";

/**
 * Emit `<Service>RequestValidators`: method path -> the generated
 * `validate<Input>()` of each method whose input type has buf.validate rules
 * (imported from the input's `_validate` file). Returns the constant's name,
 * or undefined (nothing printed) when no method's input is validated, so
 * that such a service gets no validation hook at all.
 */
export function emitRequestValidators(f: GeneratedFile, s: ServiceModel, im: FileImports, validators: GeneratedValidators | undefined): string | undefined {
  if (validators === undefined) return undefined;
  const methods = s.methods.filter((m) => validators.hasValidator(m.desc.input));
  if (methods.length === 0) return undefined;
  const name = `${s.desc.name}RequestValidators`;
  f.print(
    f.jsDoc(
      docText({
        summary:
          `The buf.validate validators of the request messages of ${s.desc.typeName}, by method path. ` +
          `\`${s.names.add}()\` validates every request with them (INVALID_ARGUMENT with a google.rpc.BadRequest detail; ` +
          `option \`validateRequests: false\` turns it off); \`${s.names.client}\` does before sending with \`validateRequests: true\`.`,
        generatedFrom: `service ${s.desc.typeName}`,
      }),
    ),
  );
  f.print(f.export("const", name), ": ", im.runtime("RequestValidators", true), " = {");
  for (const m of methods) {
    const input = m.desc.input;
    const fn = f.import(validatorName("validate", im.shape(input).name), `./${input.file.name}_validate.js`);
    f.print("  ", JSON.stringify(`/${s.desc.typeName}/${m.desc.name}`), ": ", fn, ",");
  }
  f.print("};");
  f.print();
  return name;
}
