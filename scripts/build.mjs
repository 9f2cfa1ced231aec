// Builds dist/esm (the plugin) and templates/runtime/dist/{esm,cjs} (the
// runtime package @grpckit/runtime, for ESM and CommonJS consumers). Run by `npm run build`
// (and so by `npm test`, `npm run example`); nothing runs at install time (no `prepare`).
//
// Adding a subpath to @grpckit/runtime (say `@grpckit/runtime/production`): put its sources in
// templates/runtime/production/ with an index.ts, then add to templates/runtime/package.json an
// `exports` entry shaped like `./validate` (import and require conditions, each with its own
// `types`), a `typesVersions` entry (node10), and its dependencies (peer and optional when only
// that subpath needs them). The consumer matrix (test/consumers.test.ts) runs
// @arethetypeswrong/cli on the packed tarball: a subpath missing from one of the maps fails it.
//
// First it generates the google.rpc message types the runtime uses
// (google.rpc.Status and the standard error details) with protoc-gen-es from
// the .proto files of the installed npm package `google-proto-files` into
// templates/runtime/gen/ (git-ignored): no copy of them is committed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * Writes the Apache-2.0 license text to LICENSE in both package roots (git-ignored), so that
 * each tarball carries it. The text is taken from an installed Apache-2.0 package (TypeScript,
 * a devDependency) rather than committed as a copy of third-party prose; it is checked to be
 * the Apache License 2.0 text, whole.
 */
function writeLicenses() {
  const source = require.resolve("typescript/LICENSE.txt");
  const text = readFileSync(source, "utf8");
  const isApache2 =
    /^\s*Apache License\s+Version 2\.0, January 2004/.test(text) && /END OF TERMS AND CONDITIONS\s*$/.test(text);
  if (!isApache2) throw new Error(`${source} is not the Apache License 2.0 text; cannot write LICENSE`);
  for (const dir of [".", join("templates", "runtime")]) writeFileSync(join(dir, "LICENSE"), text);
}

/**
 * The CommonJS variant of a runtime module that needs its own location (telemetry/otel-api.ts
 * loads the optional peer @opentelemetry/api with createRequire(import.meta.url)): CommonJS has no
 * import.meta, so the compiled file gets __filename instead. Exactly one occurrence is expected.
 */
function cjsFromEsmOnly(file) {
  const text = readFileSync(file, "utf8");
  const count = text.split("import.meta.url").length - 1;
  if (count !== 1) throw new Error(`${file}: expected one import.meta.url to replace, found ${count}`);
  writeFileSync(file, text.replace("import.meta.url", "__filename"));
}

writeLicenses();
generateGoogleRpc();
// Stale outputs (a renamed or deleted source) must not reach a tarball.
rmSync("dist", { recursive: true, force: true });
rmSync(join("templates", "runtime", "dist"), { recursive: true, force: true });
// The plugin (src/ -> dist/esm/src) and the runtime workspace package
// @grpckit/runtime (templates/runtime -> templates/runtime/dist/{esm,cjs}).
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { stdio: "inherit" });
const runtimeDir = join("templates", "runtime");
execFileSync(process.execPath, [tsc, "-p", join(runtimeDir, "tsconfig.json")], { stdio: "inherit" });
execFileSync(process.execPath, [tsc, "-p", join(runtimeDir, "tsconfig.cjs.json")], { stdio: "inherit" });
mkdirSync(join(runtimeDir, "dist", "cjs"), { recursive: true });
cjsFromEsmOnly(join(runtimeDir, "dist", "cjs", "telemetry", "otel-api.js"));
writeFileSync(join(runtimeDir, "dist", "cjs", "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
