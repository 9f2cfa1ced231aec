import type { GeneratedFile } from "@bufbuild/protoplugin";
import type { ServiceModel } from "../model/service-model.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";

/** Emit the grpc-js ServiceDefinition constant of a service. */
export function emitDefinition(f: GeneratedFile, s: ServiceModel, im: FileImports): void {
  f.print(
    f.jsDoc(
      docText({
        summary: `The grpc-js ServiceDefinition of ${s.desc.typeName}: method paths, stream flags and protobuf binary serializers.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  f.print(
    f.export("const", s.names.definition), ": ", im.grpc("ServiceDefinition", true),
    " = ", im.runtime("createServiceDefinition"), "(", im.service(s.desc), ");",
  );
  f.print();
}
