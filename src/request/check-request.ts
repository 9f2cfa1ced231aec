import type { CodeGeneratorRequest, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { UserError, userErrorAt } from "../errors.js";
import { checkFile } from "./check-file.js";
import { collectSymbols } from "./symbols.js";

/**
 * Check a decoded CodeGeneratorRequest before protoplugin builds descriptors
 * from it (`createFileRegistry`), so that a request no compiler would send
 * (hand-made, truncated, or from a broken tool) is reported as input
 * (`<file>: <element>: <problem>`, a UserError) rather than as a crash:
 *
 * - every `files_to_generate` entry is in `proto_file`, and no file is there twice;
 * - every import (`dependency`) is in the request, before the file importing it
 *   (protoc sends files in import order), and `public_dependency` /
 *   `weak_dependency` indexes name one of them;
 * - `syntax` is `proto2`, `proto3` or `editions` (a known edition);
 * - names are identifiers, full names are unique, members of a message,
 *   enum or service are unique, field numbers are unique and in range;
 * - field `type_name`, `extendee`, and rpc `input_type` / `output_type` resolve.
 *
 * Descriptors from `source_file_descriptors` (with source-retention options)
 * replace `proto_file` entries of the same name, as protoplugin does.
 */
export function checkRequest(request: CodeGeneratorRequest): void {
  const files = request.protoFile.map((f) => request.sourceFileDescriptors.find((s) => s.name === f.name) ?? f);
  const index = new Map<string, number>();
  for (const [i, file] of files.entries()) {
    if (file.name === "") throw new UserError(`proto_file #${i + 1} of the CodeGeneratorRequest has no name`);
    if (index.has(file.name)) throw userErrorAt(file.name, undefined, "is in the request's proto_file twice");
    index.set(file.name, i);
  }
  for (const name of request.fileToGenerate) {
    if (!index.has(name)) {
      throw userErrorAt(name, undefined, "is in files_to_generate but not in the request's proto_file (a request must carry every file to generate and all its imports)");
    }
  }
  for (const [i, file] of files.entries()) checkImports(file, i, index);
  const symbols = collectSymbols(files);
  for (const file of files) checkFile(file, symbols);
}

function checkImports(file: FileDescriptorProto, position: number, index: ReadonlyMap<string, number>): void {
  for (const dep of file.dependency) {
    const at = index.get(dep);
    if (at === undefined) {
      throw userErrorAt(
        file.name,
        `import "${dep}"`,
        "the imported file is not in the request (protoc and buf send every import; a descriptor set needs --include_imports)",
      );
    }
    if (at === position) throw userErrorAt(file.name, `import "${dep}"`, "the file imports itself");
    if (at > position) {
      throw userErrorAt(file.name, `import "${dep}"`, "the imported file comes after the importing file in proto_file (files must follow their imports)");
    }
  }
  for (const [what, indexes] of [
    ["public_dependency", file.publicDependency],
    ["weak_dependency", file.weakDependency],
  ] as const) {
    for (const i of indexes) {
      if (!(i >= 0 && i < file.dependency.length)) {
        throw userErrorAt(file.name, undefined, `${what} index ${i} does not name an import (the file has ${file.dependency.length})`);
      }
    }
  }
}
