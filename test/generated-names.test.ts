import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { createEcmaScriptPlugin, type ImportSymbol } from "@bufbuild/protoplugin";
import { createFileImports } from "../src/emit/file-imports.js";
import { defaultOptions } from "../src/options/parse-options.js";
import { batches, googleProtos } from "./support/googleapis.js";
import { bin, protocInclude, root } from "./support/paths.js";
import { freshDir } from "./support/protoc.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";

/**
 * Differential test of `createFileImports` (names from src/emit/generated-names.ts)
 * against protoplugin itself: for every message, enum, extension and service
 * of the input, the symbol (name, from, typeOnly) must equal what a real
 * protoplugin GeneratedFile returns from `importShape(d)`,
 * `importSchema(d, true)` and `importSchema(d)`.
 *
 * Time (2 cores): about 3.5 minutes on a quiet machine (6 under load), nearly
 * all of it protoplugin's own naming (quadratic in a file's types) on the two
 * google/cloud/compute protos; the rest of googleapis takes under a minute.
 */

interface Comparison {
  /** Symbols compared. */
  readonly compared: number;
  /** The differences, as readable lines (empty when all agree). */
  readonly differences: string[];
}

/**
 * Run an in-process protoplugin plugin on `files` (parameter `target=ts` plus
 * `parameter`), and compare, in one GeneratedFile, our symbols with
 * protoplugin's for every type of every file in the request.
 */
function compareWithProtoplugin(
  files: readonly FileDescriptorProto[],
  generate: readonly string[],
  parameter = "",
  only: (fileName: string) => boolean = () => true,
): Comparison {
  let compared = 0;
  const differences: string[] = [];
  const check = (what: string, ours: ImportSymbol, theirs: ImportSymbol) => {
    compared++;
    const o = { name: ours.name, from: ours.from, typeOnly: ours.typeOnly, id: ours.id };
    const t = { name: theirs.name, from: theirs.from, typeOnly: theirs.typeOnly, id: theirs.id };
    if (JSON.stringify(o) !== JSON.stringify(t)) differences.push(`${what}: ours ${JSON.stringify(o)}, protoplugin ${JSON.stringify(t)}`);
  };
  const plugin = createEcmaScriptPlugin({
    name: "protoc-gen-names-probe",
    version: "v0",
    generateTs(schema) {
      const f = schema.generateFile("probe.ts");
      const im = createFileImports(f, defaultOptions, "probe.ts");
      for (const file of schema.allFiles) {
        if (!only(file.proto.name)) continue;
        for (const d of nestedTypes(file)) {
          const what = `${d.kind} ${d.typeName} (${file.name})`;
          switch (d.kind) {
            case "message":
            case "enum":
              check(`${what} importShape`, im.shape(d), f.importShape(d));
              check(`${what} importSchema(typeOnly)`, im.schemaType(d), f.importSchema(d, true));
              check(`${what} importSchema`, im.schema(d), f.importSchema(d));
              break;
            case "extension":
              check(`${what} importSchema`, im.schema(d), f.importSchema(d));
              break;
            case "service":
              check(`${what} importSchema`, im.service(d), f.importSchema(d));
              break;
          }
        }
      }
    },
  });
  const request = create(CodeGeneratorRequestSchema, {
    protoFile: [...files],
    fileToGenerate: [...generate],
    parameter: ["target=ts", parameter].filter((p) => p !== "").join(","),
  });
  const response = plugin.run(request);
  if (response.error !== undefined && response.error !== "") throw new Error(response.error);
  return { compared, differences };
}

/** Fail on any difference, printing the first ones. */
function expectSame(c: Comparison, atLeast: number): void {
  expect(c.differences.slice(0, 20), `${c.differences.length} of ${c.compared} symbols differ`).toEqual([]);
  expect(c.compared).toBeGreaterThanOrEqual(atLeast);
}

/** Compile `files` (relative to `include`) with the real protoc into a FileDescriptorSet with all imports. */
function compile(include: string, files: readonly string[], out: string, extraArgs: readonly string[] = []): FileDescriptorSet {
  execFileSync(bin("protoc"), [`-I${include}`, `-I${protocInclude}`, ...extraArgs, "--include_imports", `--descriptor_set_out=${out}`, ...files], {
    stdio: ["ignore", "ignore", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  return fromBinary(FileDescriptorSetSchema, readFileSync(out));
}

/**
 * Compile `files` in batches; a batch protoc rejects is split until the
 * files that do not compile on their own are found, and those are returned
 * as `failed`. Descriptors are merged by name, first seen first, which keeps
 * every file after its imports. Files that only clash with each other (two
 * files declaring the same type) end up in different batches, so the merged
 * set can declare a name twice, which createFileImports must handle per
 * descriptor.
 */
function compileAll(include: string, files: readonly string[], dir: string): { set: FileDescriptorProto[]; failed: string[] } {
  const byName = new Map<string, FileDescriptorProto>();
  const failed: string[] = [];
  let n = 0;
  const add = (batch: readonly string[]) => {
    let set: FileDescriptorSet;
    try {
      const out = join(dir, `batch-${n++}.binpb`);
      set = compile(include, batch, out);
      rmSync(out); // decoded; the batches of googleapis add up to about 25 MB
    } catch {
      if (batch.length === 1) {
        failed.push(batch[0]!);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      add(batch.slice(0, half));
      add(batch.slice(half));
      return;
    }
    for (const file of set.file) if (!byName.has(file.name)) byName.set(file.name, file);
  };
  for (const batch of batches(files, 1000)) add(batch);
  return { set: [...byName.values()], failed };
}

/** Every `.proto` below `dir`, relative to `base`, with `/`, sorted. */
function protosBelow(base: string, dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".proto")) found.push(relative(base, p).split(sep).join("/"));
    }
  };
  walk(dir);
  return found;
}

/**
 * Crafted to hit protoplugin's clash rules: a shape taking another type's
 * schema name, nested `A.B` next to top-level `A_B` (and `A_BSchema`), names
 * protoplugin escapes (`Object`, `delete`, `Uint8Array`, `Partial`,
 * `globalThis`), JS builtins it does not (`Array`, `Promise`, `constructor`),
 * a message named like the file descriptor, services and extensions named
 * like schemas.
 */
const clashProtos: Record<string, string> = {
  "clash/v1/clash.proto": `syntax = "proto3";
package clash.v1;
import "google/protobuf/descriptor.proto";
message Foo {}
message FooSchema {}
message A {
  message B { message C {} }
  enum E { E_UNSPECIFIED = 0; }
  message BSchema {}
}
message A_B {}
message A_BSchema {}
message A_B_C {}
message A_E {}
message A_ESchema {}
message Object {}
message constructor {}
message delete { enum Object { OBJECT_UNSPECIFIED = 0; } }
message Uint8Array {}
message Partial {}
message globalThis {}
message Array {}
message file_clash_v1_clash_proto {}
message BarService {}
message Holder {
  extend google.protobuf.FieldOptions { string FooSchema = 50001; }
}
message Holder_FooSchema {}
enum Promise { PROMISE_UNSPECIFIED = 0; }
enum ObjectSchema { OBJECT_SCHEMA_UNSPECIFIED = 0; }
enum FooSchemaSchema { FOO_SCHEMA_SCHEMA_UNSPECIFIED = 0; }
service Bar { rpc Get(Foo) returns (Foo); }
service BarServiceSchema { rpc Get(Foo) returns (Foo); }
service ArraySchema { rpc Get(Foo) returns (Foo); }
extend google.protobuf.MessageOptions { string Uint8ArraySchema = 50002; }
`,
  "clash/v2/reserved.proto": `syntax = "proto3";
package clash.v2;
service Object { rpc Get(Req) returns (Req); }
service delete { rpc Get(Req) returns (Req); }
service Partial { rpc Get(Req) returns (Req); }
message Req {}
enum globalThis { GLOBAL_THIS_UNSPECIFIED = 0; }
`,
  "noPackage.proto": `syntax = "proto2";
message Top { message Inner {} optional Inner inner = 1; }
message Top_Inner {}
enum bigint { BIGINT_ZERO = 0; }
`,
};

describe("generated names: createFileImports equals protoplugin's importShape / importSchema", () => {
  it("on protos crafted to hit every clash rule", () => {
    const dir = freshDir("generated-names-clash-");
    for (const [name, text] of Object.entries(clashProtos)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const set = compile(dir, Object.keys(clashProtos), join(dir, "clash.binpb"));
    expectSame(compareWithProtoplugin(set.file, Object.keys(clashProtos)), 100);
  });

  it("with well-known types generated, bootstrap_wkt and map_imports", () => {
    const dir = freshDir("generated-names-wkt-");
    const files = ["clash/v1/clash.proto"];
    for (const name of files) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), clashProtos[name]!);
    }
    const set = compile(dir, [...files, "google/protobuf/timestamp.proto", "google/protobuf/struct.proto"], join(dir, "wkt.binpb"));
    expectSame(compareWithProtoplugin(set.file, [...files, "google/protobuf/timestamp.proto"]), 150);
    expectSame(compareWithProtoplugin(set.file, files, "bootstrap_wkt=true"), 150);
    expectSame(compareWithProtoplugin(set.file, files, "map_imports=clash/**:@acme/clash-es,import_extension=js"), 150);
  });

  for (const folder of ["protos", "fixtures"]) {
    it(`on the test protos in testdata/${folder}`, () => {
      const dir = freshDir("generated-names-testdata-");
      const include = join(root, "testdata", folder);
      const files = protosBelow(include, include);
      // buf/validate/validate.proto comes from the descriptor @bufbuild/protovalidate embeds.
      const validate = `--descriptor_set_in=${writeValidateDescriptorSet(dir)}`;
      const set = compile(include, files, join(dir, "testdata.binpb"), [validate]);
      expect(files.length).toBeGreaterThan(1);
      expectSame(compareWithProtoplugin(set.file, files), 10);
    });
  }

  const conformance = "/work/shared/protovalidate-conformance/cases.binpb";
  it.skipIf(!existsSync(conformance))("on the protovalidate conformance descriptor set", () => {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(conformance));
    expectSame(compareWithProtoplugin(set.file, set.file.map((f) => f.name)), 1000);
  });

  describe("on every proto of googleapis (npm google-proto-files)", () => {
    let googleapis: { set: FileDescriptorProto[]; generate: string[] } | undefined;
    /** All googleapis protos that compile, with their imports, compiled once for both tests. */
    const compileGoogleapis = () => {
      if (googleapis !== undefined) return googleapis;
      const files = protosBelow(googleProtos, join(googleProtos, "google"));
      const { set, failed } = compileAll(googleProtos, files, freshDir("generated-names-googleapis-"));
      // google-proto-files ships some of protobuf's own test protos whose imports it does not ship.
      expect(failed).toEqual([
        "google/protobuf/compiler/ruby/ruby_generated_code.proto",
        "google/protobuf/compiler/ruby/ruby_generated_code_proto2.proto",
        "google/protobuf/util/json_format_proto3.proto",
      ]);
      expect(set.length).toBeGreaterThan(files.length - 10);
      const wanted = new Set(files);
      googleapis = { set, generate: set.map((f) => f.name).filter((n) => wanted.has(n)) };
      return googleapis;
    };
    const isCompute = (name: string) => name.startsWith("google/cloud/compute/");

    it("all files but google/cloud/compute", () => {
      const { set, generate } = compileGoogleapis();
      expectSame(compareWithProtoplugin(set, generate, "", (n) => !isCompute(n)), 100_000);
    }, 10 * 60_000);

    // protoplugin's own names are the slow part here: 2.5 to 5 minutes on 2 cores for its
    // 16,000 calls on compute.proto (v1 and v1beta), O(types) each; ours take milliseconds.
    it("google/cloud/compute (v1 and v1beta: about 2,700 and 2,900 types in one file)", () => {
      const { set, generate } = compileGoogleapis();
      expectSame(compareWithProtoplugin(set, generate, "", isCompute), 15_000);
    }, 20 * 60_000);
  });
});
