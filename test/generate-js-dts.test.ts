/**
 * target=js and target=dts are printed directly (issue 9: no TypeScript at generation time).
 * - The output equals, up to formatting and comments, what protoplugin's transpiler makes of the
 *   plugin's own .ts output (same statements; for CommonJS, same exports, and the same
 *   statements when printed as ESM), so the direct
 *   printers keep the semantics the transpiled files had.
 * - The plugin generates the same bytes while `typescript` and `@typescript/vfs` cannot be
 *   resolved at all (a Node `--import` hook makes resolving them throw, for import and require).
 */
import { spawnSync, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CodeGeneratorRequestSchema,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
  type CodeGeneratorRequest,
  type CodeGeneratorResponse,
} from "@bufbuild/protobuf/wkt";
import { createEcmaScriptPlugin } from "@bufbuild/protoplugin";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { protocGenGrpckit } from "../dist/esm/src/plugin.js";
import { parseOptions, type GrpckitOptions } from "../dist/esm/src/options/parse-options.js";
import { buildFileModel } from "../dist/esm/src/model/service-model.js";
import { emitFile } from "../dist/esm/src/emit/emit-file.js";
import { generateValidators } from "../dist/esm/src/validate/generate-validators.js";
import { goldenProtos, listGoldenCases, type GoldenCase } from "./support/golden.js";
import { bin, pluginBin, protocInclude, root } from "./support/paths.js";
import { freshDir } from "./support/protoc.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";

/** The golden cases with js and dts output. */
const jsCases = listGoldenCases().filter((c) => /(^|,)target=js\+dts(,|$)/.test(c.parameter));

/** The CodeGeneratorRequest protoc sends for a golden case (built from protoc's descriptor set). */
function requestFor(c: GoldenCase): CodeGeneratorRequest {
  const dir = freshDir("jsdts-request-");
  const usesValidate = c.inputs.some((f) => readFileSync(join(goldenProtos, f), "utf8").includes("buf/validate/validate.proto"));
  const extra = usesValidate ? [`--descriptor_set_in=${writeValidateDescriptorSet(dir)}`] : [];
  const out = join(dir, "set.binpb");
  execFileSync(bin("protoc"), [`-I${goldenProtos}`, `-I${protocInclude}`, ...extra, "--include_imports", "--include_source_info", `--descriptor_set_out=${out}`, ...c.inputs]);
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
  return create(CodeGeneratorRequestSchema, { protoFile: set.file, fileToGenerate: [...c.inputs], parameter: c.parameter });
}

/** The plugin as it was: TypeScript only, js and dts made by protoplugin's transpiler. */
const transpiling = createEcmaScriptPlugin<GrpckitOptions>({
  name: "protoc-gen-grpckit",
  version: "v0",
  parseOptions,
  generateTs(schema) {
    const models = schema.files.map((file) => buildFileModel(file));
    const validators = generateValidators(schema, "ts");
    for (const model of models) emitFile(schema, "ts", model, validators);
  },
});

function files(response: CodeGeneratorResponse): Map<string, string> {
  expect(response.error ?? "").toBe("");
  return new Map(response.file.map((f) => [f.name, f.content]));
}

/**
 * Statements printed by TypeScript's printer, without comments; import declarations sorted (type-only in .d.ts).
 * An imported binding is named by what it imports (`import("@grpc/grpc-js").Server`), not by its
 * local alias: protoplugin aliases an import only when its name is taken in the file, and a .ts
 * file takes names its .js (type-only imports) or .d.ts (globals named in bodies) does not, so
 * `ClientTransport as ClientTransport$1` in one can be `ClientTransport` in the other.
 */
function normalize(name: string, text: string): string {
  const kind = name.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true, kind);
  const printer = ts.createPrinter({ removeComments: true });
  const bindings = importedBindings(sf);
  const imports: string[] = [];
  const others: string[] = [];
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s)) imports.push(printImport(s) ?? printer.printNode(ts.EmitHint.Unspecified, s, sf));
    else others.push(printer.printNode(ts.EmitHint.Unspecified, renameBindings(s, bindings), sf));
  }
  return [...(name.endsWith(".d.ts") ? imports.sort() : imports), ...others].join("\n");
}

/** The named imports of a file: local name to `import("<module>").<name>`. */
function importedBindings(sf: ts.SourceFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sf.statements) {
    const named = ts.isImportDeclaration(s) ? s.importClause?.namedBindings : undefined;
    if (named === undefined || !ts.isNamedImports(named)) continue;
    const from = (s as ts.ImportDeclaration).moduleSpecifier as ts.StringLiteral;
    for (const e of named.elements) out.set(e.name.text, `import(${JSON.stringify(from.text)}).${(e.propertyName ?? e.name).text}`);
  }
  return out;
}

/** `import { A, B } from "m";` with the imported names, without local aliases; undefined for other import forms. */
function printImport(s: ts.ImportDeclaration): string | undefined {
  const named = s.importClause?.namedBindings;
  if (s.importClause?.name !== undefined || named === undefined || !ts.isNamedImports(named)) return undefined;
  const names = named.elements.map((e) => (e.propertyName ?? e.name).text);
  return `import ${s.importClause!.isTypeOnly ? "type " : ""}{ ${names.join(", ")} } from ${JSON.stringify((s.moduleSpecifier as ts.StringLiteral).text)};`;
}

/** `node` with each reference to an imported binding named by what it imports. */
function renameBindings(node: ts.Statement, bindings: ReadonlyMap<string, string>): ts.Node {
  const isMemberName = (n: ts.Identifier) => {
    const p = n.parent;
    return p !== undefined && (ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p) || ts.isPropertyAssignment(p) || ts.isClassElement(p) || ts.isTypeElement(p)) && (ts.isQualifiedName(p) ? p.right : p.name) === n;
  };
  const result = ts.transform(node, [
    (ctx) => (root) => {
      const visit = (n: ts.Node): ts.Node => {
        if (ts.isIdentifier(n) && !isMemberName(n)) {
          const to = bindings.get(n.text);
          if (to !== undefined) return ts.factory.createIdentifier(to);
        }
        return ts.visitEachChild(n, visit, ctx);
      };
      return visit(root) as ts.Statement;
    },
  ]);
  const out = result.transformed[0]!;
  result.dispose();
  return out;
}

/** The exports of a CommonJS file evaluated with every required module stubbed, as `name: typeof`. */
function commonJsExports(code: string): Record<string, string> {
  const stub: object = new Proxy(function stubbed() {}, { get: () => stub, apply: () => stub, construct: () => stub });
  const exports: Record<string, unknown> = {};
  new Function("exports", "require", code)(exports, () => stub);
  return Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, typeof v]).sort(([a], [b]) => a!.localeCompare(b!)));
}

describe("direct js and dts output keeps the transpiled output's semantics", () => {
  for (const c of jsCases) {
    it(`${c.name} (${c.parameter})`, () => {
      const request = requestFor(c);
      const direct = files(protocGenGrpckit.run(request));
      const transpiled = files(transpiling.run(request));
      expect([...direct.keys()].sort()).toEqual([...transpiled.keys()].sort());
      expect([...direct.keys()].some((n) => n.endsWith(".js"))).toBe(true);
      expect([...direct.keys()].some((n) => n.endsWith(".d.ts"))).toBe(true);
      const commonJs = c.parameter.includes("js_import_style=legacy_commonjs");
      for (const [name, text] of direct) {
        const before = transpiled.get(name)!;
        if (name.endsWith(".js") && commonJs) {
          const exported = commonJsExports(text);
          expect(Object.keys(exported).length, name).toBeGreaterThan(0);
          expect(exported, name).toEqual(commonJsExports(before));
        } else {
          expect(normalize(name, text), name).toBe(normalize(name, before));
        }
        if (name.endsWith(".js")) expect(text, name).not.toMatch(/\bimport type\b|: (string|void)\b|\]!/);
      }
      if (commonJs) {
        // The statements themselves, compared as ESM: the same printers, only protoplugin's import/export style differs.
        const esm = create(CodeGeneratorRequestSchema, { ...request, parameter: c.parameter.replace(/,?js_import_style=legacy_commonjs/, "") });
        const directEsm = files(protocGenGrpckit.run(esm));
        const transpiledEsm = files(transpiling.run(esm));
        for (const [name, text] of directEsm) expect(normalize(name, text), name).toBe(normalize(name, transpiledEsm.get(name)!));
      }
    });
  }
});

/**
 * A module hook, loaded with `node --import`, that makes resolving `typescript` and
 * `@typescript/vfs` (and their subpaths) throw, for ESM imports and CommonJS require alike.
 */
const blockTypescript = `import Module, { register } from "node:module";
const blocked = /^(typescript|@typescript\\/vfs)(\\/|$)/;
const hook = \`export async function resolve(specifier, context, next) {
  if (\${blocked}.test(specifier)) throw new Error("blocked: " + specifier);
  return next(specifier, context);
}\`;
register("data:text/javascript," + encodeURIComponent(hook));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (blocked.test(request)) throw new Error("blocked: " + request);
  return resolveFilename.call(this, request, ...rest);
};
`;

describe("no TypeScript at generation time", () => {
  const dir = freshDir("jsdts-block-");
  const hook = join(dir, "block-typescript.mjs");
  writeFileSync(hook, blockTypescript);
  const nodeArgs = (blocked: boolean) => (blocked ? ["--import", pathToFileURL(hook).href] : []);

  it("the hook does block TypeScript (protoplugin's entry point cannot load)", () => {
    const r = spawnSync(process.execPath, [...nodeArgs(true), "--input-type=module", "-e", 'await import("@bufbuild/protoplugin")'], { cwd: root, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("blocked: typescript");
  });

  for (const name of ["js-dts-validated", "js-commonjs-validated", "js-dts-esm"]) {
    it(`generates ${name} with TypeScript unresolvable, byte for byte as a normal run`, () => {
      const c = jsCases.find((x) => x.name === name)!;
      const input = toBinary(CodeGeneratorRequestSchema, requestFor(c));
      const runPlugin = (blocked: boolean) => {
        const r = spawnSync(process.execPath, [...nodeArgs(blocked), pluginBin], { cwd: root, input, maxBuffer: 64 * 1024 * 1024 });
        expect(r.stderr.toString(), `plugin stderr (blocked=${blocked})`).toBe("");
        expect(r.status).toBe(0);
        return r.stdout;
      };
      const blocked = runPlugin(true);
      expect(Buffer.compare(blocked, runPlugin(false))).toBe(0);
      const response = fromBinary(CodeGeneratorResponseSchema, blocked);
      const names = [...files(response).keys()].sort();
      expect(names.filter((n) => n.endsWith(".js")).length).toBe(names.filter((n) => n.endsWith(".d.ts")).length);
      expect(names.filter((n) => n.endsWith(".js")).length).toBeGreaterThan(0);
      expect(names.filter((n) => n.endsWith(".ts") && !n.endsWith(".d.ts"))).toEqual([]);
    });
  }
});
