/**
 * The consumer matrix's projects: the two packages packed with `npm pack`, installed as the README's
 * quick start says into a fresh project under os.tmpdir() (outside the repository, so its
 * node_modules cannot leak in), then one project per resolution mode sharing that install.
 * Commands run with the Node.js that runs the tests first on PATH, so that CI can run the matrix
 * on Node 20, 22 and 24. npm's own cache makes repeated installs fast (`--prefer-offline`).
 * @internal
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { root } from "./paths.js";
import { signupProto, signupServiceProto, validateCheck, type ConsumerMode } from "./consumer-files.js";

/** Versions the consumer projects install (the plugin's own pins where it has them). */
export const consumerVersions = {
  grpcJs: "1.14.7",
  protobuf: "2.17.0",
  // @opentelemetry/sdk-* 2.x accept `>=1.0.0 <1.10.0`; a bare `npm install @opentelemetry/api` gives 1.10.
  otelApi: "~1.9.0",
  otelSdk: "2.12.1",
  protovalidate: "1.3.0",
  cel: "0.6.1",
  re2: "0.6.1",
  protocGenEs: "2.13.0", // 2.14+ needs Node 22
  buf: "1.75.0",
  typescript: "5.9.3",
  typescript7: "7.0.2",
  typesNode: "20.19.43",
  esbuild: "0.28.2",
} as const;

export interface CommandResult {
  readonly stdout: string;
}

/** Runs a command with the project's node_modules/.bin and the test's Node.js first on PATH; throws with its output on failure. */
export function run(cwd: string, command: string, args: readonly string[]): CommandResult {
  const path = [join(cwd, "node_modules", ".bin"), dirname(process.execPath), process.env.PATH ?? ""].join(delimiter);
  try {
    const stdout = execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: path, npm_config_update_notifier: "false", NO_COLOR: "1" },
      timeout: 240_000,
    });
    return { stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

export interface Tarballs {
  readonly plugin: string;
  readonly runtime: string;
}

/** `npm pack` of both packages (they must be built: `npm run build`). */
export function packPackages(dest: string): Tarballs {
  for (const built of ["dist/esm/src/run-plugin.js", "templates/runtime/dist/cjs/index.d.ts", "LICENSE"]) {
    if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  mkdirSync(dest, { recursive: true });
  const pack = (args: string[]) =>
    join(dest, run(root, "npm", ["pack", "--silent", "--pack-destination", dest, ...args]).stdout.trim().split("\n").pop()!);
  return { plugin: pack([]), runtime: pack(["--workspace", "@grpckit/runtime"]) };
}

/** A fresh project under os.tmpdir() with the quick start's install (and the matrix's tools). */
export function installBase(tarballs: Tarballs): string {
  const v = consumerVersions;
  const dir = mkdtempSync(join(tmpdir(), "grpckit-consumer-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer-base", private: true }, null, 2) + "\n");
  const npm = (args: string[]) => run(dir, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...args]);
  npm([
    tarballs.runtime,
    `@grpc/grpc-js@${v.grpcJs}`,
    `@bufbuild/protobuf@${v.protobuf}`,
    `@opentelemetry/api@${v.otelApi}`,
    `@opentelemetry/sdk-trace-base@${v.otelSdk}`, // npm refuses the install if the API is outside its peer range
    `@bufbuild/protovalidate@${v.protovalidate}`,
    `@bufbuild/cel@${v.cel}`,
    `@bufbuild/re2@${v.re2}`,
  ]);
  npm([
    "--save-dev",
    tarballs.plugin,
    `@bufbuild/protoc-gen-es@${v.protocGenEs}`,
    `@bufbuild/buf@${v.buf}`,
    `typescript@${v.typescript}`,
    `@types/node@${v.typesNode}`,
    `typescript-7@npm:typescript@${v.typescript7}`,
    `esbuild@${v.esbuild}`,
  ]);
  run(dir, "grpckit-validate-descriptors", ["buf-validate.binpb"]);
  return dir;
}

/** Plugin options of both plugins in a mode. */
export function pluginOptions(mode: ConsumerMode): string {
  const options = [`target=${mode.target ?? "ts"}`];
  if (mode.importExtension === "js") options.push("import_extension=js");
  if (mode.jsImportStyle !== undefined) options.push(`js_import_style=${mode.jsImportStyle}`);
  return options.join(",");
}

/** The extension of the generated files the project imports: `.ts`, or `.js` (beside a `.d.ts`) with `target=js+dts`. */
export function generatedExtension(mode: ConsumerMode): ".ts" | ".js" {
  return mode.target === "js+dts" ? ".js" : ".ts";
}

/** One project per mode next to the base install, sharing its node_modules. */
export function createModeProject(base: string, mode: ConsumerMode): string {
  const dir = join(dirname(base), `${base.split(/[\\/]/).pop()}-${mode.name}`);
  const quickstart = join(root, "examples", "quickstart");
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "validate-proto", "signup", "v1"), { recursive: true });
  symlinkSync(join(base, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: mode.name, private: true, type: mode.type }, null, 2) + "\n");
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: mode.compilerOptions, include: ["src"] }, null, 2) + "\n");
  cpSync(join(quickstart, "buf.yaml"), join(dir, "buf.yaml"));
  cpSync(join(quickstart, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(join(quickstart, "src", "main.ts"), join(dir, "src", "main.ts"));
  const bufGen = readFileSync(join(quickstart, "buf.gen.yaml"), "utf8");
  if (!bufGen.includes("opt: target=ts,import_extension=js")) throw new Error("examples/quickstart/buf.gen.yaml changed: update the matrix");
  writeFileSync(join(dir, "buf.gen.yaml"), bufGen.replaceAll("target=ts,import_extension=js", pluginOptions(mode)));
  writeFileSync(join(dir, "validate-proto", "signup", "v1", "signup.proto"), signupProto);
  writeFileSync(join(dir, "validate-proto", "signup", "v1", "signup_service.proto"), signupServiceProto);
  writeFileSync(join(dir, "src", "validate-check.ts"), validateCheck);
  return dir;
}

/** All files under a folder, relative path to content. */
export function readTree(dir: string, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [k, c] of readTree(dir, rel)) out.set(k, c);
    else out.set(rel, readFileSync(join(dir, rel), "utf8"));
  }
  return out;
}
