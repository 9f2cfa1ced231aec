import { cpSync, readFileSync, writeFileSync } from "node:fs";
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

/** Golden cases with js and dts output: their .d.ts must type-check, and so must code that uses them. */
const dtsCases = listGoldenCases().filter((c) => /(^|,)target=js\+dts(,|$)/.test(c.parameter));

/**
 * TypeScript using the generated declarations of each proto the js+dts cases use: handlers,
 * registration, a client of every method kind; `@ts-expect-error` lines check that wrong types
 * are refused (a declaration that turned into `any` would make them fail).
 */
const dtsConsumers: Record<string, string> = {
  "shop/v1/catalog.proto": `import { Server } from "@grpc/grpc-js";
import type { Item } from "./shop/v1/types_pb.js";
import { addCatalogService, addPartialAdminService, CatalogServiceClient, CatalogServiceDefinition, CatalogServiceRuntimeConfig, type CatalogServiceServer } from "./shop/v1/catalog_grpckit.js";

const impl: CatalogServiceServer = {
  async getItem(req) { return { sku: req.sku, priceCents: 1n }; },
  async *listItems(req) { yield { title: String(req.pageSize) }; },
  async placeOrder(lines) { let n = 0; for await (const l of lines) n += l.quantity; return { lines: n }; },
  async *watchPrices(reqs) { for await (const r of reqs) yield { sku: r.sku }; },
  async ping() { return {}; },
  async annotate(req) { return { note: req.note }; },
};
const server = new Server();
addCatalogService(server, impl);
addPartialAdminService(server, {});
// Streaming handlers may return a synchronous Iterable: an array, a generator.
addCatalogService(server, { ...impl, listItems: (req) => [{ title: String(req.pageSize) }], *watchPrices() { yield { sku: "b" }; } });
// @ts-expect-error an Iterable of the wrong message is refused
addCatalogService(server, { ...impl, listItems: () => [{ title: 1 }] });
// @ts-expect-error a handler set missing methods is refused by addCatalogService
addCatalogService(server, { async ping() { return {}; } });
const client = new CatalogServiceClient("127.0.0.1:1", { retry: false } as never);
const one: Promise<Item> = client.getItem({ sku: "a" }, { timeoutMs: 10 });
const many: AsyncIterable<Item> = client.listItems({ pageSize: 2 });
const total = client.placeOrder([{ sku: "a", quantity: 1 }]).then((s) => s.totalCents + 1n);
const prices: AsyncIterable<Item> = client.watchPrices((async function* () { yield { sku: "a" }; })());
// @ts-expect-error a wrong field type is refused
void client.getItem({ sku: 1 });
export const used = [one, many, total, prices, CatalogServiceDefinition, CatalogServiceRuntimeConfig, client.getChannel(), client.transport];
`,
  "acct/v1/account.proto": `import { create } from "@bufbuild/protobuf";
import type { ValidationResult } from "@grpckit/runtime/validate";
import { CreateAccountRequestSchema, type Account } from "./acct/v1/account_pb.js";
import { validateCreateAccountRequest } from "./acct/v1/account_validate.js";
import { addAccountService, AccountServiceClient, type AccountServiceServer } from "./acct/v1/account_grpckit.js";
import { Server, credentials } from "@grpc/grpc-js";

const result: ValidationResult = validateCreateAccountRequest(create(CreateAccountRequestSchema, { email: "a@b.c" }));
// @ts-expect-error validators take the message type
validateCreateAccountRequest({ email: 1 });
const impl: AccountServiceServer = {
  async createAccount(req) { return { email: req.email }; },
  async getAccount(req) { return { id: req.id }; },
  async *listAccounts(req) { yield { id: String(req.pageSize) }; },
  async importAccounts(reqs) { for await (const r of reqs) return { id: r.name }; return {}; },
};
addAccountService(new Server(), impl);
const client = new AccountServiceClient("127.0.0.1:1", credentials.createInsecure());
const got: Promise<Account> = client.getAccount({ id: "x" });
export const used = [result, got, client.listAccounts({}), client.importAccounts([{ name: "n" }])];
`,
  // Messages and services named after globals and imported names (issue 9): the globals keep their meaning.
  "names/v1/names.proto": `import { create } from "@bufbuild/protobuf";
import { Server, credentials } from "@grpc/grpc-js";
import { NumberSchema, type Error as ErrorMessage, type Promise as PromiseMessage } from "./names/v1/names_pb.js";
import { validateNumber } from "./names/v1/names_validate.js";
import { addClientTransport, addPartialServer, addServer, ServerClient, type ServerServer } from "./names/v1/names_grpckit.js";

const impl: ServerServer = {
  async get(req: PromiseMessage) { return { message: req.id }; },
  async *list(req) { yield { id: req.id }; },
  async upload(reqs) { let n = 0n; for await (const r of reqs) n += BigInt(r.data.length); return { seconds: n }; },
  async *chat(reqs) { for await (const r of reqs) yield { data: new Uint8Array([r.id.length]) }; },
  async check(req) { return { code: Number.isFinite(req.ratio) ? 0 : 3 }; },
  async sum(reqs) { const entries: Record<string, string> = {}; for await (const r of reqs) entries[String(Object.keys(r.numbers).length)] = ""; return { entries }; },
};
const server = new Server();
addServer(server, impl);
addPartialServer(server, { async get() { return {}; } });
addClientTransport(server, {} as never);
// @ts-expect-error a handler returning the wrong message is refused
addPartialServer(server, { async get() { return { code: 1 }; } });
const client = new ServerClient("127.0.0.1:1", credentials.createInsecure());
const got: Promise<ErrorMessage> = client.get({ id: "a" });
const listed: AsyncIterable<{ id: string }> = client.list({ id: "b" });
// @ts-expect-error a wrong field type is refused
void client.get({ id: 1 });
export const used = [got, listed, validateNumber(create(NumberSchema, { ratio: 1 })), client.chat([{ id: "c" }])];
`,
};

describe("golden declarations (js+dts) type-check under strict, with code that uses them", () => {
  for (const c of dtsCases) {
    it(c.name, () => {
      const dir = freshDir(`golden-dts-${c.name}-`);
      const usesValidate = c.inputs.some((f) => readFileSync(join(goldenProtos, f), "utf8").includes("buf/validate/validate.proto"));
      const extraArgs = usesValidate ? [`--descriptor_set_in=${writeValidateDescriptorSet(freshDir("golden-dts-validate-"))}`] : [];
      // protoc-gen-es declarations for the inputs and the protos they import.
      const imported = c.inputs.includes("shop/v1/catalog.proto") ? ["shop/v1/types.proto"] : [];
      const files = [...new Set([...c.inputs, ...imported, ...(usesValidate ? ["buf/validate/validate.proto"] : [])])];
      const esOpt = c.parameter.replace(/,?(server|client|telemetry|validate)=\w+/g, "").replace("target=js+dts", "target=dts");
      runProtoc({ includes: [goldenProtos], files, grpckitOpt: c.parameter, esOpt, out: dir, extraArgs });
      cpSync(join(c.dir, "expected"), dir, { recursive: true });
      const consumer = dtsConsumers[c.inputs[0]!];
      expect(consumer, `no consumer code for ${c.inputs[0]}`).toBeDefined();
      writeFileSync(join(dir, "consumer.ts"), consumer!);
      const module = c.parameter.includes("import_extension=js") ? "nodenext" : "bundler";
      expect(typecheckDir(dir, { module, declarations: true })).toEqual([]);
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
    for (const n of ["addServiceImplementation", "createClientTransport", "createServiceDefinition", "ClientTransport", "GrpcError", "Status", "HandlerContext", "StreamResponses", "CallOptions", "ClientOptions", "ServerOptions", "ServiceRuntimeConfig", "RequestStream", "ServerHook", "ClientHook", "badRequestError", "pushbackError", "packDetail", "BadRequestSchema", "RetryInfoSchema"]) {
      expect(core, n).toContain(n);
    }
    // The core entry must not pull in validation or OpenTelemetry.
    expect([...core].filter((n) => /^(requestValidation|telemetryHooks|runValidation)$/.test(n))).toEqual([]);
    expect(names("templates/runtime/validate/index.ts")).toContain("requestValidation");
    expect(names("templates/runtime/telemetry/index.ts")).toContain("telemetryHooks");
  });
});
