// Generate ./gen for the production example (skipped when up to date): the
// quickstart's greet.proto, and the clients the driver uses for Health and
// reflection from Debian's grpc-proto package (/usr/share/grpc-proto), all
// with the real protoc, protoc-gen-es and protoc-gen-grpckit (target=js+dts).
// Needs `npm run build` first (the plugin and @grpckit/runtime run from dist).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const greetProto = join(repo, "examples", "quickstart", "proto");
const grpcProto = process.env.GRPC_PROTO_DIR ?? "/usr/share/grpc-proto";
const out = join(here, "gen");
const marker = join(out, "greet", "v1", "greet_grpckit.js");
const plugin = join(repo, "dist", "esm", "src", "plugin.js");

if (!existsSync(join(repo, "templates", "runtime", "dist", "esm", "production", "index.js"))) {
  console.error("examples/production: run `npm run build` first");
  process.exit(1);
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : Infinity);
const upToDate = existsSync(marker) && mtime(marker) > Math.max(mtime(join(greetProto, "greet", "v1", "greet.proto")), mtime(plugin));
if (!upToDate) {
  // Generate next to ./gen, then rename: a concurrent reader never sees half a tree.
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const bin = (name) => join(repo, "node_modules", ".bin", name);
  execFileSync(bin("protoc"), [
    `-I${greetProto}`,
    `-I${grpcProto}`,
    `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
    `--es_out=${tmp}`,
    "--es_opt=target=js+dts,import_extension=js",
    `--plugin=protoc-gen-grpckit=${join(repo, "bin", "protoc-gen-grpckit")}`,
    `--grpckit_out=${tmp}`,
    "--grpckit_opt=target=js+dts,import_extension=js",
    "greet/v1/greet.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
  ], { stdio: "inherit" });
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  console.error(`examples/production: generated ${out}`);
}
