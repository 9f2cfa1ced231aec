import { cpSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createFileRegistry } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import ts from "typescript";
import { freshDir } from "./support/protoc.js";
import { batches, buildDescriptorSet, cachedEsDeclarations, findServiceProtos, generateBatches } from "./support/googleapis.js";
import { createTypecheckProgram, diagnosticsOf } from "./support/typecheck.js";
import { reservedClientMembers } from "../src/model/check-names.js";

/**
 * protoc-gen-grpckit on every service of the googleapis protos shipped in
 * npm `google-proto-files` (about 1,600 files, 1,900 services, 13,000
 * methods): real protoc, protoc-gen-es 2.13 declarations, one strict
 * type-check of all the output, and the generated declarations counted
 * against the descriptors.
 *
 * Time (2 cores): about 3 minutes when the protoc-gen-es output is cached in
 * tmp/, several more on the first run (protoc-gen-es takes over a minute for
 * google/cloud/compute/v1/compute.proto alone).
 */

/** What the descriptors declare: per `file|Service`, the methods' protobuf-es local names, in order. */
type Declared = Map<string, string[]>;

describe("googleapis: every service in google-proto-files", () => {
  let out: string;
  let declared: Declared;
  let program: ts.Program;

  beforeAll(async () => {
    const scan = findServiceProtos();
    out = freshDir("googleapis-");
    const setPath = join(out, "googleapis.binpb");
    const set = buildDescriptorSet(scan, setPath);
    declared = declaredServices(set, new Set(scan));
    const withServices = [...new Set([...declared.keys()].map((k) => k.split("|")[0]!))].sort();
    const dependencies = set.file.map((f) => f.name).filter((n) => !n.startsWith("google/protobuf/"));
    const es = await cachedEsDeclarations(setPath, dependencies);
    const gen = join(out, "gen");
    await generateBatches(setPath, "grpckit", "target=ts", batches(withServices), gen);
    cpSync(es, gen, { recursive: true, filter: (src) => !src.endsWith(".complete") });
    rmSync(setPath); // about 80 MB, only needed to generate
    program = createTypecheckProgram(listGenerated(gen));
  }, 30 * 60_000);

  it("declares services in hundreds of files (the scan found the input)", () => {
    expect(declared.size).toBeGreaterThan(1000);
  });

  it("type-checks all generated code under strict with zero diagnostics", () => {
    expect(diagnosticsOf(program)).toEqual([]);
  }, 30 * 60_000);

  it("generates every declared service and method", () => {
    const generated = generatedServices(program, out);
    const expected = new Map<string, { server: string[]; client: string[] }>();
    for (const [key, methods] of declared) {
      const client = methods.map((m) => (reservedClientMembers.includes(m) ? `${m}$` : m));
      expected.set(key, { server: [...methods].sort(), client: [...client].sort() });
    }
    expect([...generated.keys()].sort()).toEqual([...expected.keys()].sort());
    let methodCount = 0;
    for (const [key, want] of expected) {
      const got = generated.get(key)!;
      expect({ key, server: got.server, client: got.client.filter((m) => want.client.includes(m)) }).toEqual({ key, ...want });
      expect(got.exports, key).toEqual(expect.arrayContaining(exportsOf(key)));
      methodCount += want.server.length;
    }
    expect(methodCount).toBe([...declared.values()].reduce((n, ms) => n + ms.length, 0));
  });
});

/** The services the scanned files declare, from the descriptors (not from the text scan). */
function declaredServices(set: FileDescriptorSet, scanned: ReadonlySet<string>): Declared {
  const registry = createFileRegistry(set);
  const declared: Declared = new Map();
  for (const file of registry.files) {
    if (!scanned.has(file.proto.name)) continue;
    for (const s of file.services) declared.set(`${file.proto.name}|${s.name}`, s.methods.map((m) => m.localName));
  }
  return declared;
}

function exportsOf(key: string): string[] {
  const s = key.split("|")[1]!;
  return [`${s}Definition`, `${s}Server`, `add${s}`, `addPartial${s}`, `${s}Client`];
}

/** Per `file|Service`: the handler interface's members, the client class's methods, and the file's exports. */
function generatedServices(program: ts.Program, out: string): Map<string, { server: string[]; client: string[]; exports: string[] }> {
  const found = new Map<string, { server: string[]; client: string[]; exports: string[] }>();
  const gen = join(out, "gen");
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.endsWith("_grpckit.ts")) continue;
    const proto = relative(gen, sf.fileName).split(sep).join("/").replace(/_grpckit\.ts$/, ".proto");
    const exports: string[] = [];
    const servers = new Map<string, string[]>();
    const clients = new Map<string, string[]>();
    for (const st of sf.statements) {
      if (!ts.canHaveModifiers(st) || !ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) exports.push(d.name.text);
        continue;
      }
      const name = (st as { name?: ts.Identifier }).name?.text;
      if (name === undefined) continue;
      exports.push(name);
      if (ts.isInterfaceDeclaration(st) && name.endsWith("Server")) servers.set(name.slice(0, -6), st.members.map(memberName));
      if (ts.isClassDeclaration(st) && name.endsWith("Client")) {
        clients.set(name.slice(0, -6), st.members.filter(ts.isMethodDeclaration).map(memberName));
      }
    }
    for (const [service, server] of servers) {
      found.set(`${proto}|${service}`, { server: server.sort(), client: (clients.get(service) ?? []).sort(), exports });
    }
  }
  return found;
}

function memberName(m: ts.ClassElement | ts.TypeElement): string {
  return m.name !== undefined && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : "?";
}

/** The generated `.ts` files to check (the protoc-gen-es `.d.ts` come in through imports). */
function listGenerated(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...listGenerated(p));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) files.push(p);
  }
  return files;
}
