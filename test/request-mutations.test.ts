/**
 * CodeGeneratorRequests no compiler would send are input errors, not plugin bugs: real requests
 * (captured from protoc, and built from a `protoc --descriptor_set_out --include_imports` set)
 * go through seeded structural and byte-level mutations; every response must be a normal one
 * (generate() never throws, so the bin never prints "internal error"), and every error names the
 * file it is about (or the option, or stdin for undecodable bytes), with no stack trace. The cases
 * the issue lists have exact messages. Needs `npm run build`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CodeGeneratorRequestSchema,
  CodeGeneratorResponseSchema,
  DescriptorProtoSchema,
  Edition,
  MethodDescriptorProtoSchema,
  FieldDescriptorProto_Type,
  FileDescriptorSetSchema,
  type CodeGeneratorRequest,
  type DescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { bin, pluginBin, protocInclude, root } from "./support/paths.js";
import { captureRequest, freshDir } from "./support/protoc.js";
import { mulberry32 } from "./support/prng.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";

const { generate } = (await import("../dist/esm/src/run-plugin.js")) as { generate(bytes: Uint8Array): Uint8Array };

const protos = join(root, "testdata", "protos");
const stackFrame = /\n\s+at .+[:(]\d+/;

/**
 * protoc's own request for the shop, legacy and empty protos (shop imports google/protobuf/empty.proto);
 * the capturing plugin declares no editions support, so editions files come in the descriptor set below.
 */
const captured = captureRequest([protos], ["shop/v1/types.proto", "shop/v1/catalog.proto", "legacy/legacy.proto", "empty/no_services.proto"], "target=ts");

/**
 * A request built from `protoc --descriptor_set_out --include_imports`: acct/v1/account.proto (buf.validate
 * rules; buf/validate/validate.proto from the descriptors @bufbuild/protovalidate embeds) and the editions files.
 */
function requestFromDescriptorSet(): Uint8Array {
  const toGenerate = ["acct/v1/account.proto", "ed2023/inventory.proto", "ed2024/audit.proto"];
  const dir = freshDir("mutations-");
  const set = join(dir, "acct.binpb");
  execFileSync(bin("protoc"), [
    `-I${protos}`,
    `-I${protocInclude}`,
    `--descriptor_set_in=${writeValidateDescriptorSet(dir)}`,
    "--include_imports",
    `--descriptor_set_out=${set}`,
    ...toGenerate,
  ]);
  const files = fromBinary(FileDescriptorSetSchema, readFileSync(set)).file;
  return toBinary(CodeGeneratorRequestSchema, create(CodeGeneratorRequestSchema, { fileToGenerate: toGenerate, parameter: "target=ts", protoFile: files }));
}
const fromSet = requestFromDescriptorSet();

const decode = (bytes: Uint8Array) => fromBinary(CodeGeneratorRequestSchema, bytes);
const respond = (bytes: Uint8Array) => fromBinary(CodeGeneratorResponseSchema, generate(bytes));
const file = (r: CodeGeneratorRequest, name: string) => r.protoFile.find((f) => f.name === name)!;

/** Mutate a decoded request; the same change reaches source_file_descriptors (they replace proto_file entries). */
function edit(bytes: Uint8Array, change: (r: CodeGeneratorRequest) => void): Uint8Array {
  const r = decode(bytes);
  r.sourceFileDescriptors = [];
  change(r);
  return toBinary(CodeGeneratorRequestSchema, r);
}

/** Every message of a file, nested ones included. */
function messagesOf(f: FileDescriptorProto): DescriptorProto[] {
  const out: DescriptorProto[] = [];
  const walk = (ms: readonly DescriptorProto[]) => ms.forEach((m) => (out.push(m), walk(m.nestedType)));
  walk(f.messageType);
  return out;
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** Structural mutations: each edits one decoded request (files picked by the seeded PRNG). */
const structural: Record<string, (r: CodeGeneratorRequest, rng: Rng) => void> = {
  "drop a dependency": (r, rng) => {
    const imported = [...new Set(r.protoFile.flatMap((f) => f.dependency))];
    const name = pick(rng, imported);
    r.protoFile = r.protoFile.filter((f) => f.name !== name);
  },
  "drop a file to generate": (r, rng) => {
    const name = pick(rng, r.fileToGenerate);
    r.protoFile = r.protoFile.filter((f) => f.name !== name);
  },
  "add a files_to_generate entry": (r, rng) => r.fileToGenerate.push(`${pick(rng, ["x", "shop/v1", "nope"])}/missing.proto`),
  "corrupt a field type_name": (r, rng) => {
    const all = r.protoFile.flatMap(messagesOf).flatMap((m) => m.field);
    const typed = all.filter((f) => f.typeName !== "");
    const f = pick(rng, typed.length > 0 ? typed : all);
    if (f.typeName === "") [f.type, f.typeName] = [FieldDescriptorProto_Type.MESSAGE, ".shop.v1.Item"];
    f.typeName = pick(rng, [`${f.typeName}X`, ".nope.Missing", "", f.typeName.substring(1).split(".").reverse().join(".")]);
  },
  "turn a field into an enum field naming a message": (r, rng) => {
    const f = pick(rng, r.protoFile.filter((x) => x.messageType.some((m) => m.field.length > 0)));
    const m = pick(rng, f.messageType.filter((x) => x.field.length > 0));
    const field = pick(rng, m.field);
    [field.type, field.typeName] = [FieldDescriptorProto_Type.ENUM, `.${f.package}.${m.name}`];
  },
  "corrupt an rpc type": (r, rng) => {
    const m = pick(rng, r.protoFile.flatMap((f) => f.service).flatMap((s) => s.method));
    if (rng() < 0.5) m.inputType = `${m.inputType}Missing`;
    else m.outputType = pick(rng, [".google.protobuf.Nope", "", ".shop.v1.CatalogService"]);
  },
  "change syntax": (r, rng) => {
    pick(rng, r.protoFile).syntax = pick(rng, ["proto4", "Proto3", " proto3", "edition", "2023", "proto3\u0000"]);
  },
  "unknown edition": (r, rng) => {
    const f = pick(rng, r.protoFile);
    f.syntax = "editions";
    f.edition = pick(rng, [Edition.EDITION_UNKNOWN, Edition.EDITION_LEGACY, Edition.EDITION_1_TEST_ONLY, Edition.EDITION_MAX, Edition.EDITION_2026, Edition.EDITION_99999_TEST_ONLY]);
  },
  "duplicate a message": (r, rng) => {
    const f = pick(rng, r.protoFile.filter((x) => x.messageType.length > 0));
    f.messageType.push(clone(DescriptorProtoSchema, pick(rng, f.messageType)));
  },
  "rename a message to a sibling's name": (r, rng) => {
    const f = pick(rng, r.protoFile.filter((x) => x.messageType.length > 1));
    f.messageType[1]!.name = f.messageType[0]!.name;
  },
  "duplicate a field name or number": (r, rng) => {
    const m = pick(rng, r.protoFile.flatMap(messagesOf).filter((x) => x.field.length > 1));
    if (rng() < 0.5) m.field[1]!.name = m.field[0]!.name;
    else m.field[1]!.number = m.field[0]!.number;
  },
  "duplicate an rpc": (r, rng) => {
    const s = pick(rng, r.protoFile.flatMap((f) => f.service));
    s.method.push(clone(MethodDescriptorProtoSchema, pick(rng, s.method)));
  },
  "move a dependency after its importer": (r, rng) => {
    const importer = pick(rng, r.protoFile.filter((f) => f.dependency.length > 0));
    const dep = r.protoFile.findIndex((f) => f.name === importer.dependency[0]);
    const [moved] = r.protoFile.splice(dep, 1);
    r.protoFile.push(moved!);
  },
  "bad identifier": (r, rng) => {
    const m = pick(rng, r.protoFile.flatMap(messagesOf));
    m.name = pick(rng, [`${m.name}-x`, `${m.name}.Inner`, "", "a b"]);
  },
  "bad field type, label, number or oneof": (r, rng) => {
    const m = pick(rng, r.protoFile.flatMap(messagesOf).filter((x) => x.field.length > 0));
    const f = pick(rng, m.field);
    const what = Math.floor(rng() * 4);
    if (what === 0) f.type = pick(rng, [0, 19, 99]) as FieldDescriptorProto_Type;
    else if (what === 1) f.label = 7 as never;
    else if (what === 2) f.number = pick(rng, [0, -1, 536_870_912]);
    else f.oneofIndex = 5;
  },
  "empty an enum (or clear a file name)": (r, rng) => {
    const enums = r.protoFile.flatMap((f) => [...f.enumType, ...messagesOf(f).flatMap((m) => m.enumType)]);
    if (enums.length > 0) pick(rng, enums).value = [];
    else r.protoFile[0]!.name = "";
  },
  "drop every file": (r) => {
    r.protoFile = [];
  },
};

/** Byte-level mutations of the encoded request. */
const byteLevel: Record<string, (b: Uint8Array, rng: Rng) => Uint8Array> = {
  truncate: (b, rng) => b.subarray(0, Math.floor(rng() * b.length)),
  "flip bytes": (b, rng) => {
    const out = Uint8Array.from(b);
    const n = 1 + Math.floor(rng() * 3);
    for (let i = 0; i < n; i++) out[Math.floor(rng() * out.length)] ^= 1 << Math.floor(rng() * 8);
    return out;
  },
  "insert a byte": (b, rng) => {
    const at = Math.floor(rng() * b.length);
    return Uint8Array.from([...b.subarray(0, at), Math.floor(rng() * 256), ...b.subarray(at)]);
  },
};

/** An error names a .proto file (or, for a file without a name, its position), the option it is about, or stdin for bytes that do not decode. */
const namesItsSubject = /(^|\s|")[\w./-]+\.proto\b|^malformed CodeGeneratorRequest on stdin: |option "[a-z_]+"|^invalid option "|^proto_file #\d+ /;

describe("seeded mutations of real CodeGeneratorRequests", () => {
  const outcomes = { mutations: 0, errors: 0, ok: 0 };
  const sources = { captured, fromSet };

  it(">= 100 mutations: no internal error, every error names its file, no stack trace", () => {
    const rng = mulberry32(20261202);
    const failures: string[] = [];
    const check = (label: string, bytes: Uint8Array) => {
      outcomes.mutations++;
      let response;
      try {
        response = respond(bytes);
      } catch (err) {
        failures.push(`${label}: internal error: ${String(err instanceof Error ? err.stack : err)}`);
        return;
      }
      if (!response.error) return void outcomes.ok++;
      outcomes.errors++;
      if (!namesItsSubject.test(response.error) || stackFrame.test(response.error)) failures.push(`${label}: ${response.error}`);
      if (response.file.length !== 0) failures.push(`${label}: an error response with ${response.file.length} files`);
    };
    for (let round = 0; round < 4; round++) {
      for (const [sourceName, source] of Object.entries(sources)) {
        for (const [name, mutate] of Object.entries(structural)) {
          check(`${sourceName} / ${name} / round ${round}`, edit(source, (r) => mutate(r, rng)));
        }
      }
    }
    for (let i = 0; i < 30; i++) {
      for (const [sourceName, source] of Object.entries(sources)) {
        const [name, mutate] = pick(rng, Object.entries(byteLevel));
        check(`${sourceName} / ${name} #${i}`, mutate(source, rng));
      }
    }
    console.log(`request mutations: ${JSON.stringify(outcomes)}`);
    expect(failures).toEqual([]);
    expect(outcomes.mutations).toBeGreaterThanOrEqual(100);
    // Most mutations must be caught: a checker that accepts everything would fail here.
    expect(outcomes.errors).toBeGreaterThanOrEqual(Math.floor(outcomes.mutations * 0.6));
  });

  it("the unmutated requests generate (control)", () => {
    for (const source of Object.values(sources)) {
      const response = respond(source);
      expect(response.error ?? "").toBe("");
      expect(response.file.length).toBeGreaterThan(0);
    }
  });
});

describe("exact messages for bad requests", () => {
  const cases: Array<[string, (r: CodeGeneratorRequest) => void, string, Uint8Array?]> = [
    [
      "a bad syntax string",
      (r) => (file(r, "shop/v1/types.proto").syntax = "proto4"),
      'shop/v1/types.proto: unsupported syntax "proto4" (supported: "proto2", "proto3", "editions"; an empty syntax means proto2)',
    ],
    [
      "an unknown edition",
      (r) => (file(r, "ed2024/audit.proto").edition = Edition.EDITION_2026),
      "ed2024/audit.proto: unsupported edition 2026 (supported: syntax \"proto2\", \"proto3\", and editions 2023 and 2024)",
      fromSet,
    ],
    [
      "a files_to_generate entry missing from proto_file",
      (r) => (r.protoFile = r.protoFile.filter((f) => f.name !== "legacy/legacy.proto")),
      "legacy/legacy.proto: is in files_to_generate but not in the request's proto_file (a request must carry every file to generate and all its imports)",
    ],
    [
      "an import missing from the request",
      (r) => (r.protoFile = r.protoFile.filter((f) => f.name !== "google/protobuf/empty.proto")),
      'shop/v1/catalog.proto: import "google/protobuf/empty.proto": the imported file is not in the request (protoc and buf send every import; a descriptor set needs --include_imports)',
    ],
    [
      "an import after its importer",
      (r) => r.protoFile.push(r.protoFile.splice(r.protoFile.findIndex((f) => f.name === "shop/v1/types.proto"), 1)[0]!),
      'shop/v1/catalog.proto: import "shop/v1/types.proto": the imported file comes after the importing file in proto_file (files must follow their imports)',
    ],
    [
      "a field type_name that does not resolve",
      (r) => {
        const f = file(r, "shop/v1/types.proto").messageType.find((m) => m.name === "OrderSummary")!.field[0]!;
        [f.type, f.typeName] = [FieldDescriptorProto_Type.MESSAGE, ".shop.v1.Nope"];
      },
      'shop/v1/types.proto: field shop.v1.OrderSummary.lines: type_name ".shop.v1.Nope" is not defined in the request (expected a message)',
    ],
    [
      "an rpc input type that does not resolve",
      (r) => (file(r, "legacy/legacy.proto").service[0]!.method[0]!.inputType = ".legacy.Missing"),
      'legacy/legacy.proto: rpc legacy.LegacyLookup.Lookup: input_type ".legacy.Missing" is not defined in the request (expected a message)',
    ],
    [
      "an rpc output type naming a service",
      (r) => (file(r, "legacy/legacy.proto").service[0]!.method[0]!.outputType = ".legacy.LegacyLookup"),
      'legacy/legacy.proto: rpc legacy.LegacyLookup.Lookup: output_type ".legacy.LegacyLookup" is a service (in legacy/legacy.proto), not a message',
    ],
    [
      "a message defined in two files",
      (r) => file(r, "shop/v1/catalog.proto").messageType.push(clone(DescriptorProtoSchema, file(r, "shop/v1/types.proto").messageType[0]!)),
      'shop/v1/catalog.proto: message shop.v1.Item: "shop.v1.Item" is already defined (as a message) in shop/v1/types.proto',
    ],
    [
      "two fields with one name",
      (r) => {
        const m = file(r, "legacy/legacy.proto").messageType[0]!;
        m.field[1]!.name = m.field[0]!.name;
      },
      "legacy/legacy.proto: field legacy.LookupRequest.key: name \"key\" is already used by field legacy.LookupRequest.key",
    ],
  ];
  for (const [name, change, message, source = captured] of cases) {
    it(name, () => {
      const response = respond(edit(source, change));
      expect(response.error).toBe(message);
      expect(response.file).toEqual([]);
    });
  }

  it("through the bin: exit status 0, the error in the response, nothing on stderr", () => {
    const bytes = edit(captured, (r) => (file(r, "shop/v1/types.proto").syntax = "proto4"));
    const r = spawnSync(pluginBin, { input: bytes });
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    expect(fromBinary(CodeGeneratorResponseSchema, r.stdout).error).toMatch(/^shop\/v1\/types\.proto: unsupported syntax "proto4"/);
  });
});
