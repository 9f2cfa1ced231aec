import type { Schema } from "@bufbuild/protoplugin";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { FileModel } from "../model/service-model.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { createFileImports } from "./file-imports.js";
import { emitDefinition } from "./emit-definition.js";
import { emitRuntimeConfig } from "./emit-runtime-config.js";
import { emitServer } from "./emit-server.js";
import { emitClient } from "./emit-client.js";

/** The generated file's name for a proto file: `foo/v1/foo.proto` gives `foo/v1/foo_grpckit.ts`. */
export function generatedFileName(protoFileName: string): string {
  return `${protoFileName}_grpckit.ts`;
}

/** Emit the services file of one proto file (empty when it declares no services). */
export function emitFile(schema: Schema<GrpckitOptions>, model: FileModel, validators?: GeneratedValidators): void {
  const f = schema.generateFile(generatedFileName(model.desc.name));
  f.preamble(model.desc);
  if (model.services.length === 0) return;
  const im = createFileImports(f, schema.options);
  for (const s of model.services) {
    emitDefinition(f, s, im);
    emitRuntimeConfig(f, s, im, schema.options, validators);
    if (schema.options.server) emitServer(f, s, im, schema.options);
    if (schema.options.client) emitClient(f, s, im, schema.options);
  }
}
