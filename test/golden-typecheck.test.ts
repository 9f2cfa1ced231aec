import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Project, SyntaxKind } from "ts-morph";
import { goldenProtos, listGoldenCases } from "./support/golden.js";
import { root } from "./support/paths.js";
import { freshDir, runProtoc } from "./support/protoc.js";
import { typecheckDir } from "./support/typecheck.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";

/** Golden cases whose output is TypeScript that must compile (ts_nocheck and custom runtimes excluded). */
const tsCases = listGoldenCases().filter((c) => /(^|,)target=ts(,|$)/.test(c.parameter) && !/ts_nocheck|runtime_import|rewrite_imports/.test(c.parameter));

describe("golden TypeScript type-checks under strict with protoc-gen-es output", () => {
  for (const c of tsCases) {
    it(c.name, () => {
      const dir = freshDir(`golden-tc-${c.name}-`);
      const usesValidate = c.inputs.some((f) => readFileSync(join(goldenProtos, f), "utf8").includes("buf/validate/validate.proto"));
      const extraArgs = usesValidate ? [`--descriptor_set_in=${writeValidateDescriptorSet(freshDir("golden-tc-validate-"))}`] : [];
      // protoc-gen-es output next to the golden files (the goldens are the files under test, not a fresh run).
      const files = usesValidate ? [...c.inputs, "buf/validate/validate.proto"] : c.inputs;
      runProtoc({ includes: [goldenProtos], files, grpckitOpt: c.parameter, esOpt: c.parameter.replace(/,?(server|client|telemetry|validate)=\w+/g, ""), out: dir, extraArgs });
      cpSync(join(c.dir, "expected"), dir, { recursive: true });
      const module = c.parameter.includes("import_extension=js") ? "nodenext" : "bundler";
      expect(typecheckDir(dir, { module })).toEqual([]);
    });
  }
});

/** The exported declarations of a file, as `kind name`, sorted. */
function exportsOf(project: Project, path: string): string[] {
  const sf = project.addSourceFileAtPath(path);
  const out: string[] = [];
  for (const [name, decls] of sf.getExportedDeclarations()) {
    for (const d of decls) out.push(`${d.getKindName()} ${name}`);
  }
  return out.sort();
}

describe("public API surface (ts-morph)", () => {
  it("a generated file exports exactly the documented declarations per service", () => {
    const project = new Project({ useInMemoryFileSystem: false, skipAddingFilesFromTsConfig: true, compilerOptions: { allowJs: false } });
    const file = join(root, "testdata/golden/ts-basic/expected/shop/v1/catalog_grpckit.ts");
    const perService = (s: string) => [
      `ClassDeclaration ${s}Client`,
      `FunctionDeclaration add${s}`,
      `FunctionDeclaration addPartial${s}`,
      `InterfaceDeclaration ${s}Server`,
      `VariableDeclaration ${s}Definition`,
      `VariableDeclaration ${s}RuntimeConfig`,
    ];
    expect(exportsOf(project, file)).toEqual([...perService("AdminService"), ...perService("CatalogService")].sort());
    const client = project.getSourceFileOrThrow(file).getClassOrThrow("CatalogServiceClient");
    const members = client.getMembers().flatMap((m) => (m.getKind() === SyntaxKind.Constructor ? [] : [(m as { getName(): string }).getName()]));
    expect(members).toEqual(["transport", "getItem", "listItems", "placeOrder", "watchPrices", "ping", "annotate", "close", "getChannel"]);
  });

  it("the runtime entry points export what generated code and users rely on", () => {
    const project = new Project({ tsConfigFilePath: join(root, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
    const names = (p: string) => new Set(exportsOf(project, join(root, p)).map((e) => e.split(" ")[1]));
    const core = names("templates/runtime/index.ts");
    for (const n of ["addServiceImplementation", "createClientTransport", "createServiceDefinition", "ClientTransport", "GrpcError", "Status", "HandlerContext", "CallOptions", "ClientOptions", "ServerOptions", "ServiceRuntimeConfig", "RequestStream", "ServerHook", "ClientHook", "badRequestError", "pushbackError", "packDetail", "BadRequestSchema", "RetryInfoSchema"]) {
      expect(core, n).toContain(n);
    }
    // The core entry must not pull in validation or OpenTelemetry.
    expect([...core].filter((n) => /^(requestValidation|telemetryHooks|runValidation)$/.test(n))).toEqual([]);
    expect(names("templates/runtime/validate/index.ts")).toContain("requestValidation");
    expect(names("templates/runtime/telemetry/index.ts")).toContain("telemetryHooks");
  });
});
