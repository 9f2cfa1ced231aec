import { readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { root } from "./paths.js";

/**
 * How the checked code resolves its imports.
 * - `"bundler"` (default): `module: esnext`, `moduleResolution: bundler`; relative
 *   imports may leave out the extension (protoc-gen-es `import_extension=none`, the
 *   default with `target=ts`).
 * - `"nodenext"`: Node's own ESM rules; relative imports need an extension
 *   (generate with `import_extension=js`).
 */
export type TypecheckModule = "bundler" | "nodenext";

export interface TypecheckOptions {
  /** Module system; default `"bundler"`. */
  readonly module?: TypecheckModule;
  /** More files to check with the folder (absolute paths or relative to the repository root), e.g. code that uses the generated code. */
  readonly extraFiles?: readonly string[];
  /**
   * Also check the `.d.ts` files below `dir` (generated with `target=dts`) under `strict`, as
   * `skipLibCheck: false` does, instead of only using them; default false.
   */
  readonly declarations?: boolean;
}

/** The runtime generated code imports (and its subpaths such as `/telemetry`), checked from source like the tests run it. */
const runtimePaths = {
  "@grpckit/runtime": [join(root, "templates", "runtime", "index.ts")],
  "@grpckit/runtime/*": [join(root, "templates", "runtime", "*", "index.ts")],
};

/**
 * Type-check every `.ts` file below `dir` (generated `_pb.ts`, `_grpckit.ts`,
 * `_validate.ts`, ...) in-process with the repository's TypeScript compiler API,
 * under `strict`, without emitting. `.d.ts` files there (protoc-gen-es
 * `target=dts`) are used when imported but not checked (`skipLibCheck`).
 *
 * Imports resolve as in the tests: `@grpckit/runtime` to
 * `templates/runtime/index.ts` and `@grpckit/runtime/<sub>` to
 * `templates/runtime/<sub>/index.ts`; `@bufbuild/protobuf` and `@grpc/grpc-js`
 * from the repository's node_modules, so `dir` must be inside the repository
 * (e.g. under tmp/).
 *
 * Returns the diagnostics as `path:line:col TSnnnn: message` strings (paths
 * relative to the repository root), sorted; an empty array means the code
 * type-checks.
 *
 * @throws Error if `dir` is outside the repository or holds no `.ts` file.
 */
export function typecheckDir(dir: string, opts: TypecheckOptions = {}): string[] {
  const abs = resolve(dir);
  if (relative(root, abs).startsWith("..") || isAbsolute(relative(root, abs))) {
    throw new Error(`typecheckDir: ${abs} is outside the repository ${root}; its imports of @bufbuild/protobuf and @grpc/grpc-js would not resolve`);
  }
  const files = listTsFiles(abs, opts.declarations === true);
  if (files.length === 0) throw new Error(`typecheckDir: no .ts file below ${abs}`);
  const extra = (opts.extraFiles ?? []).map((f) => resolve(root, f));
  if (opts.declarations !== true) return typecheckFiles([...files, ...extra], opts.module ?? "bundler");
  const program = createTypecheckProgram([...files, ...extra], opts.module ?? "bundler", { skipLibCheck: false });
  const own = program.getSourceFiles().filter((sf) => sf.isDeclarationFile && !relative(abs, sf.fileName).startsWith(".."));
  const diagnostics = own.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]);
  return [...diagnosticsOf(program), ...diagnostics.map(formatDiagnostic)].sort();
}

/** Type-check the given files (and what they import); returns sorted `path:line:col message` strings. */
export function typecheckFiles(files: readonly string[], module: TypecheckModule = "bundler"): string[] {
  return diagnosticsOf(createTypecheckProgram(files, module));
}

/**
 * A TypeScript program of the given root files with the options `typecheckDir`
 * uses, to inspect or check. Built with the compiler API of the repository's
 * `typescript` (the version `npm run build` compiles with) and its own
 * compiler host. Not ts-morph's `Project`: its host does not record each
 * file's module format (`impliedNodeFormat`), so under `nodenext` every file
 * counted as CommonJS, and its bundled TypeScript has no lib files on disk.
 */
export function createTypecheckProgram(files: readonly string[], module: TypecheckModule = "bundler", overrides: ts.CompilerOptions = {}): ts.Program {
  const options = { ...compilerOptions(module), ...overrides };
  return ts.createProgram({ rootNames: files, options, host: ts.createCompilerHost(options, true) });
}

/** The diagnostics of a program's own (non-declaration) files, as sorted `path:line:col message` strings. */
export function diagnosticsOf(program: ts.Program): string[] {
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile) continue;
    diagnostics.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  }
  return diagnostics.map(formatDiagnostic).sort();
}

function compilerOptions(module: TypecheckModule): ts.CompilerOptions {
  const common: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    types: ["node"],
    typeRoots: [join(root, "node_modules", "@types")],
    isolatedModules: true,
    noImplicitOverride: true,
    paths: runtimePaths,
  };
  switch (module) {
    case "bundler":
      return { ...common, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
    case "nodenext":
      return { ...common, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  }
}

function formatDiagnostic(d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n  ");
  if (d.file === undefined || d.start === undefined) return `TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const path = relative(root, d.file.fileName).split(sep).join("/");
  return `${path}:${line + 1}:${character + 1} TS${d.code}: ${message}`;
}

function listTsFiles(dir: string, declarations = false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTsFiles(p, declarations));
    else if (name.endsWith(".ts") && (declarations || !name.endsWith(".d.ts"))) out.push(p);
  }
  return out;
}
