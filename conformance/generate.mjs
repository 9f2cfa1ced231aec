// Generate protoc-gen-es `_pb.js` files and our `_validate.js` validators for
// every conformance case proto of ../shared/protovalidate-conformance/cases.binpb
// into a fresh folder (default tmp/conformance/gen), with invalid_rules=runtime_error
// so that cases expecting a compilation error get a validator returning one.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Generate into `out` from the descriptor set `binpb`; returns `out`. */
export function generateConformance(binpb, out = join(root, "tmp/conformance/gen")) {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(binpb));
  const files = set.file.map((f) => f.name).filter((n) => n.startsWith("buf/validate/conformance/cases/"));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const bin = join(root, "node_modules/.bin");
  execFileSync(join(bin, "protoc"), [
    `--descriptor_set_in=${binpb}`,
    `--plugin=protoc-gen-es=${join(bin, "protoc-gen-es")}`,
    `--es_out=${out}`,
    "--es_opt=target=js+dts,import_extension=js",
    `--plugin=protoc-gen-grpckit=${join(root, "bin/protoc-gen-grpckit")}`,
    `--grpckit_out=${out}`,
    "--grpckit_opt=target=js,import_extension=js,invalid_rules=runtime_error",
    ...files,
    "buf/validate/validate.proto",
  ], { stdio: ["ignore", "inherit", "inherit"] });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const binpb = process.argv[2] ?? join(root, "../shared/protovalidate-conformance/cases.binpb");
  console.log(generateConformance(binpb, process.argv[3]));
}
