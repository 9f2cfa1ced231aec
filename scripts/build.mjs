// Builds dist/esm (the plugin) and templates/runtime/dist/{esm,cjs} (the
// runtime package @grpckit/runtime, for ESM and CommonJS consumers). Run by `npm run build` and by
// `npm ci` through the `prepare` script.
//
// First it generates the google.rpc message types the runtime uses
// (google.rpc.Status and the standard error details) with protoc-gen-es from
// the .proto files of the installed npm package `google-proto-files` into
// templates/runtime/gen/ (git-ignored): no copy of them is committed.
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
const bin = (name) => join("node_modules", ".bin", name);

function generateGoogleRpc() {
  const googleProtos = dirname(require.resolve("google-proto-files/package.json"));
  const protocInclude = join(dirname(require.resolve("protoc/package.json")), "include");
  const out = join("templates", "runtime", "gen");
  mkdirSync(out, { recursive: true });
  execFileSync(
    bin("protoc"),
    [
      `-I${googleProtos}`,
      `-I${protocInclude}`,
      `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
      `--es_out=${out}`,
      "--es_opt=target=ts,import_extension=js",
      "google/rpc/status.proto",
      "google/rpc/error_details.proto",
      "google/rpc/code.proto",
    ],
    { stdio: "inherit" },
  );
}

generateGoogleRpc();
// The plugin (src/ -> dist/esm/src) and the runtime workspace package
// @grpckit/runtime (templates/runtime -> templates/runtime/dist/{esm,cjs}).
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { stdio: "inherit" });
const runtimeDir = join("templates", "runtime");
execFileSync(process.execPath, [tsc, "-p", join(runtimeDir, "tsconfig.json")], { stdio: "inherit" });
execFileSync(process.execPath, [tsc, "-p", join(runtimeDir, "tsconfig.cjs.json")], { stdio: "inherit" });
mkdirSync(join(runtimeDir, "dist", "cjs"), { recursive: true });
writeFileSync(join(runtimeDir, "dist", "cjs", "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
