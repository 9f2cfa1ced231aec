// Generates the code of gRPC's interop test service (grpc/testing/test.proto,
// from Debian's `grpc-proto` package; never copied into this repository) into
// examples/interop/gen/ with the real protoc, protoc-gen-es and
// protoc-gen-grpckit. Rebuilds the plugin first when dist/ is missing or older
// than src/ or templates/.
//
// Usage: node examples/interop/generate.mjs
// Environment: GRPC_PROTO_DIR, a folder holding grpc/testing/test.proto
// (default: /usr/share/grpc-proto, then /usr/include).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const genDir = join(root, "examples", "interop", "gen");
export const protoFiles = ["grpc/testing/test.proto", "grpc/testing/messages.proto", "grpc/testing/empty.proto"];

/** The folder holding grpc/testing/test.proto. */
export function findProtoDir() {
  const candidates = process.env.GRPC_PROTO_DIR ? [process.env.GRPC_PROTO_DIR] : ["/usr/share/grpc-proto", "/usr/include"];
  const found = candidates.find((d) => existsSync(join(d, "grpc", "testing", "test.proto")));
  if (found === undefined) {
    throw new Error(
      `grpc/testing/test.proto not found in ${candidates.join(", ")}: install Debian's grpc-proto package ` +
        `(apt-get install grpc-proto) or set GRPC_PROTO_DIR to a folder holding grpc/testing/test.proto`,
    );
  }
  return found;
}

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** Build the plugin (dist/) unless it is newer than its sources. */
export function ensureBuilt() {
  const entry = join(root, "dist", "esm", "src", "run-plugin.js");
  const sources = Math.max(newestMtime(join(root, "src")), newestMtime(join(root, "templates")));
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
}

/** Generate into `out` (default examples/interop/gen/, emptied first). Returns `out`. */
export function generate(out = genDir) {
  const protoDir = findProtoDir();
  ensureBuilt();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const bin = (name) => join(root, "node_modules", ".bin", name);
  const opt = "target=ts,import_extension=js";
  execFileSync(
    bin("protoc"),
    [
      `-I${protoDir}`,
      `-I${join(root, "node_modules", "protoc", "include")}`,
      `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
      `--es_out=${out}`,
      `--es_opt=${opt}`,
      `--plugin=protoc-gen-grpckit=${join(root, "bin", "protoc-gen-grpckit")}`,
      `--grpckit_out=${out}`,
      `--grpckit_opt=${opt}`,
      ...protoFiles,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = generate();
  console.log(`generated ${protoFiles.join(", ")} from ${findProtoDir()} into ${out}`);
}
