import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { freshDir, runProtoc } from "./protoc.js";

/**
 * A FileDescriptorSet with `buf/validate/validate.proto` (and its imports),
 * built from the descriptor `@bufbuild/protovalidate` embeds: no copy of the
 * upstream .proto in this repository. Returns the file's path.
 */
export function writeValidateDescriptorSet(dir: string): string {
  const files: DescFile[] = [];
  const visit = (f: DescFile) => {
    if (files.includes(f)) return;
    f.dependencies.forEach(visit);
    files.push(f);
  };
  visit(file_buf_validate_validate);
  const path = join(dir, "buf-validate.binpb");
  writeFileSync(path, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) })));
  return path;
}

/**
 * Generate protoc-gen-es and protoc-gen-grpckit output (target=ts) for inline
 * protos that import `buf/validate/validate.proto`; returns the output folder
 * (import `<out>/<name>_grpckit.ts` / `_validate.ts` / `_pb.ts`).
 */
export function generateValidated(protos: Readonly<Record<string, string>>, grpckitOpt = "target=ts"): string {
  const src = freshDir("validate-src-");
  for (const [name, text] of Object.entries(protos)) {
    mkdirSync(join(src, name, ".."), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  const set = writeValidateDescriptorSet(src);
  return runProtoc({
    includes: [src],
    files: [...Object.keys(protos), "buf/validate/validate.proto"],
    grpckitOpt,
    esOpt: "target=ts",
    extraArgs: [`--descriptor_set_in=${set}`],
  });
}
