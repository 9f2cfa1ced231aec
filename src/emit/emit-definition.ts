import type { GeneratedFile } from "@bufbuild/protoplugin";
import type { ServiceModel } from "../model/service-model.js";
import { docText } from "./doc-text.js";
import type { FileImports } from "./file-imports.js";
import { printConst, pure, type Target } from "./emit-target.js";

/** Emit the grpc-js ServiceDefinition constant of a service (`/*@__PURE__*\/`: unused, it is dropped by bundlers). */
export function emitDefinition(f: GeneratedFile, t: Target, s: ServiceModel, im: FileImports): void {
  f.print(
    f.jsDoc(
      docText({
        summary: `The grpc-js ServiceDefinition of ${s.desc.typeName}: method paths, stream flags and protobuf binary serializers.`,
        generatedFrom: `service ${s.desc.typeName}`,
        deprecated: s.deprecated,
      }),
    ),
  );
  const create = () => [pure, im.runtime("createServiceDefinition"), "(", im.service(s.desc), ")"];
  printConst(f, t, s.names.definition, im.grpc("ServiceDefinition", true), t === "dts" ? [] : [create()]);
  f.print();
}
