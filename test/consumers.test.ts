/**
 * The consumer matrix: both packages from `npm pack` tarballs, installed into fresh projects
 * under os.tmpdir() as the README's quick start says, in four kinds of projects (CommonJS and ESM
 * with `nodenext`, CommonJS with `node10`, ESM bundled by esbuild). Each generates with buf and
 * with protoc (same bytes), type-checks strict with TypeScript 5.9 and 7 (7 where it supports the
 * mode), and runs the quick start (a server and a client of the four method kinds on 127.0.0.1)
 * and a buf.validate check. Also: @arethetypeswrong/cli on each tarball, the LICENSE in each, and
 * no generator in the production dependency tree. Needs `npm run build` (npm test does it).
 */
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerModes, type ConsumerMode } from "./support/consumer-files.js";
import { createModeProject, generatedExtension, installBase, packPackages, pluginOptions, readTree, run, type Tarballs } from "./support/consumer-project.js";
import { bin, root } from "./support/paths.js";

let tarballs: Tarballs;
let base: string;
const protoc = bin("protoc");

beforeAll(() => {
  const packs = join(root, "tmp", `packs-${process.pid}`);
  tarballs = packPackages(packs);
  base = installBase(tarballs);
}, 300_000);

afterAll(() => {
  if (process.env.GRPCKIT_KEEP_CONSUMERS) return;
  if (base) for (const m of consumerModes) rmSync(`${base}-${m.name}`, { recursive: true, force: true });
  if (base) rmSync(base, { recursive: true, force: true });
  if (tarballs) rmSync(dirname(tarballs.plugin), { recursive: true, force: true });
});

function tarFiles(tgz: string): string[] {
  return execFileSync("tar", ["tzf", tgz], { encoding: "utf8" }).trim().split("\n");
}

function packedManifest(tgz: string): Record<string, unknown> {
  return JSON.parse(execFileSync("tar", ["xzOf", tgz, "package/package.json"], { encoding: "utf8" })) as Record<string, unknown>;
}

describe("packages", () => {
  it("have a LICENSE (Apache-2.0), no install scripts, sideEffects false", () => {
    for (const tgz of [tarballs.plugin, tarballs.runtime]) {
      expect(tarFiles(tgz)).toContain("package/LICENSE");
      const license = execFileSync("tar", ["xzOf", tgz, "package/LICENSE"], { encoding: "utf8" });
      expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
      const manifest = packedManifest(tgz);
      expect(manifest.license).toBe("Apache-2.0");
      expect(manifest.sideEffects).toBe(false);
      const scripts = (manifest.scripts ?? {}) as Record<string, string>;
      for (const s of ["prepare", "preinstall", "install", "postinstall"]) expect(scripts[s], `${tgz}: ${s}`).toBeUndefined();
    }
  });

  it("runtime: no dependencies; grpc-js and protobuf peers; OTel, validation, health and reflection optional peers", () => {
    const m = packedManifest(tarballs.runtime);
    expect(m.dependencies ?? {}).toEqual({});
    const peers = m.peerDependencies as Record<string, string>;
    const meta = m.peerDependenciesMeta as Record<string, { optional?: boolean }>;
    expect(Object.keys(peers).sort()).toEqual(
      ["@bufbuild/cel", "@bufbuild/protobuf", "@bufbuild/protovalidate", "@bufbuild/re2", "@grpc/grpc-js", "@grpc/reflection", "@opentelemetry/api", "grpc-health-check"],
    );
    expect(Object.keys(meta).filter((k) => meta[k]?.optional).sort()).toEqual(
      ["@bufbuild/cel", "@bufbuild/protovalidate", "@bufbuild/re2", "@grpc/reflection", "@opentelemetry/api", "grpc-health-check"],
    );
  });

  it("@arethetypeswrong/cli finds no problem in either tarball", () => {
    // The runtime: every resolution mode (node10, node16 from CJS and ESM, bundler).
    run(root, bin("attw"), ["--format", "ascii", tarballs.runtime]);
    // The plugin is an ESM-only dev tool (a bin; its JS API `generate` is ESM): CJS and node10
    // resolution of its entry point are out of scope by design.
    run(root, bin("attw"), ["--format", "ascii", "--profile", "esm-only", tarballs.plugin]);
  });

  it("optional peers load only with the subpath that needs them", () => {
    const loaded = (entry: string) => {
      const script = `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)))`;
      const files = JSON.parse(run(base, process.execPath, ["-e", script]).stdout) as string[];
      return new Set(files.map((f) => /node_modules\/(@[^/]+\/[^/]+|[^@/][^/]*)\//.exec(f)?.[1]).filter(Boolean));
    };
    const core = loaded("@grpckit/runtime");
    expect(core).toContain("@grpc/grpc-js");
    for (const optional of ["@opentelemetry/api", "@bufbuild/cel", "@bufbuild/re2", "@bufbuild/protovalidate"]) expect(core).not.toContain(optional);
    const telemetry = loaded("@grpckit/runtime/telemetry");
    expect(telemetry).toContain("@opentelemetry/api");
    expect(telemetry).not.toContain("@bufbuild/cel");
    const validate = loaded("@grpckit/runtime/validate");
    expect(validate).toContain("@bufbuild/cel");
    expect(validate).not.toContain("@opentelemetry/api");
  });

  it("the production dependency tree holds no generator or compiler", () => {
    const tree = run(base, "npm", ["ls", "--omit=dev", "--all", "--parseable"]).stdout;
    const names = tree.split("\n").map((p) => p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length));
    expect(names).toContain("@grpckit/runtime");
    for (const banned of [/^typescript$/, /^@typescript\//, /^@bufbuild\/protoplugin$/, /^ts-morph$/, /^protoc-gen-grpckit$/]) {
      expect(names.filter((n) => banned.test(n))).toEqual([]);
    }
  });
});

function generate(dir: string, mode: ConsumerMode): void {
  run(dir, "buf", ["generate"]);
  const plugins = (out: string, extra = "") => [
    `--plugin=protoc-gen-es=${join(dir, "node_modules", ".bin", "protoc-gen-es")}`,
    `--es_out=${out}`,
    `--es_opt=${pluginOptions(mode)}${extra}`,
    `--plugin=protoc-gen-grpckit=${join(dir, "node_modules", ".bin", "protoc-gen-grpckit")}`,
    `--grpckit_out=${out}`,
    `--grpckit_opt=${pluginOptions(mode)}${extra}`,
  ];
  run(dir, "mkdir", ["-p", "gen-protoc"]);
  run(dir, protoc, ["-I", "proto", ...plugins("gen-protoc"), "greet/v1/greet.proto"]);
  expect(readTree(join(dir, "gen-protoc"))).toEqual(readTree(join(dir, "src", "gen")));
  // buf.validate without network: the descriptors @bufbuild/protovalidate embeds, passed as
  // --descriptor_set_in. The _pb import of buf/validate/validate_pb: with import_extension=js it is
  // rewritten to the module @bufbuild/protovalidate exports; without an extension (that export
  // needs the `.js`) protoc-gen-es generates buf/validate/validate_pb itself.
  const descriptors = `--descriptor_set_in=${join(base, "buf-validate.binpb")}`;
  const rewrite = `,rewrite_imports=./buf/validate/validate_pb.js:@bufbuild/protovalidate/gen`;
  const useRewrite = mode.importExtension === "js";
  const signup = ["signup/v1/signup.proto", "signup/v1/signup_service.proto"];
  run(dir, protoc, ["-I", "validate-proto", descriptors, ...plugins(join("src", "gen"), useRewrite ? rewrite : ""), ...signup]);
  if (!useRewrite) run(dir, protoc, [descriptors, ...plugins(join("src", "gen")).slice(0, 3), "buf/validate/validate.proto"]);
  const files = [...readTree(join(dir, "src", "gen")).keys()];
  const ext = generatedExtension(mode);
  expect(files).toContain(`signup/v1/signup_validate${ext}`); // rules, no service: a _validate file
  expect(files).not.toContain(`signup/v1/signup_grpckit${ext}`);
  expect(files).toContain(`signup/v1/signup_service_grpckit${ext}`);
  if (ext === ".js") for (const f of files.filter((f) => f.endsWith(".js"))) expect(files, `${f} has its declarations`).toContain(f.replace(/\.js$/, ".d.ts"));
  expect(readFileSync(join(dir, "src", "gen", "signup", "v1", `signup_pb${ext}`), "utf8")).toContain(
    useRewrite ? "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js" : `from "../../buf/validate/validate_pb"`,
  );
  if (mode.jsImportStyle === "legacy_commonjs") {
    const grpckit = readFileSync(join(dir, "src", "gen", "greet", "v1", "greet_grpckit.js"), "utf8");
    expect(grpckit).toContain(`require("@grpckit/runtime")`);
    expect(grpckit).not.toMatch(/^import /m);
  }
}

function typecheck(dir: string, mode: ConsumerMode): void {
  run(dir, "tsc", ["-p", "."]);
  const tsc7 = join(dir, "node_modules", "typescript-7", "bin", "tsc");
  if (mode.ts7) run(dir, process.execPath, [tsc7, "-p", ".", "--noEmit"]);
  else expect(() => run(dir, process.execPath, [tsc7, "-p", ".", "--noEmit"])).toThrow(/node10/i);
}

function build(dir: string, mode: ConsumerMode): string[] {
  if (mode.build === "tsc") {
    // With target=js+dts, tsc compiles only the project's own files; the generated .js files run as
    // they are, next to the compiled program (as a project ships them).
    if (generatedExtension(mode) === ".js") cpSync(join(dir, "src", "gen"), join(dir, "dist", "gen"), { recursive: true, filter: (f) => !f.endsWith(".d.ts") });
    return ["dist/main.js", "dist/validate-check.js"];
  }
  // grpc-js is CommonJS: an ESM bundle for Node gives it a `require` (esbuild's documented recipe).
  const banner = `import { createRequire } from "node:module"; const require = createRequire(import.meta.url);`;
  run(dir, "esbuild", ["src/main.ts", "src/validate-check.ts", "--bundle", "--platform=node", "--format=esm", "--outdir=dist", "--out-extension:.js=.mjs", `--banner:js=${banner}`]);
  return ["dist/main.mjs", "dist/validate-check.mjs"];
}

describe.each(consumerModes)("consumer project $name", (mode) => {
  it("generates with buf and protoc, type-checks with TypeScript 5.9 and 7, runs all four method kinds and validation", () => {
    const dir = createModeProject(base, mode);
    generate(dir, mode);
    typecheck(dir, mode);
    const [main, check] = build(dir, mode);
    const out = run(dir, process.execPath, [main!]).stdout;
    for (const kind of ["unary", "server streaming", "client streaming", "bidi streaming", "error"]) expect(out).toContain(kind);
    expect(out).toContain("INVALID_ARGUMENT: name is required");
    expect(run(dir, process.execPath, [check!]).stdout).toContain("signup(bad email) -> INVALID_ARGUMENT");
  }, 240_000);
});
