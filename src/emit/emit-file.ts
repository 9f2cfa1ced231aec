import type { Schema } from "@bufbuild/protoplugin";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { FileModel } from "../model/service-model.js";
import type { GeneratedValidators } from "../validate/generate-validators.js";
import { createFileImports } from "./file-imports.js";
import { emitDefinition } from "./emit-definition.js";
import { emitRuntimeConfig } from "./emit-runtime-config.js";
import { emitServer } from "./emit-server.js";
import { emitClient } from "./emit-client.js";
import { targetExtension, type Target } from "./emit-target.js";

/** The generated file's name for a proto file: `foo/v1/foo.proto` gives `foo/v1/foo_grpckit.ts` (`.js`, `.d.ts`). */
export function generatedFileName(protoFileName: string, target: Target = "ts"): string {
  return `${protoFileName}_grpckit${targetExtension(target)}`;
}

/** Emit the services file of one proto file for one target (empty when it declares no services). */
export function emitFile(schema: Schema<GrpckitOptions>, target: Target, model: FileModel, validators?: GeneratedValidators): void {
  const name = generatedFileName(model.desc.name, target);
  const f = schema.generateFile(name);
  f.preamble(model.desc);
  if (model.services.length === 0) return;
  const im = createFileImports(f, schema.options, name);
  for (const s of model.services) {
    emitDefinition(f, target, s, im);
    emitRuntimeConfig(f, target, s, im, schema.options, validators);
    if (schema.options.server) emitServer(f, target, s, im, schema.options);
    if (schema.options.client) emitClient(f, target, s, im, schema.options);
  }
}
