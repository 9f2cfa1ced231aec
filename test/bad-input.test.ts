import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { pluginBin } from "./support/paths.js";
import { captureRequest, readTree } from "./support/protoc.js";
import { tryProtoc, writeProtos } from "./support/protoc-result.js";

// The built plugin, as protoc runs it (`npm run build` first).
const { generate } = (await import("../dist/esm/src/run-plugin.js")) as { generate(bytes: Uint8Array): Uint8Array };

const stackFrame = /\n\s+at .+[:(]\d+/;

const goodProto = `syntax = "proto3";
package good.v1;
message Req {}
service Fine { rpc Get(Req) returns (Req); }
`;

/** A proto file in package bad.v1 with the given service declarations. */
const badProto = (services: string) => `syntax = "proto3";
package bad.v1;
message Req {}
${services}
`;

/**
 * Run the plugin through the real protoc on `bad/v1/bad.proto` (and a good
 * file before it); expect failure with `message`, and nothing written.
 */
function expectProtocError(services: string, message: string, grpckitOpt = "target=ts"): string {
  const dir = writeProtos({ "good/v1/good.proto": goodProto, "bad/v1/bad.proto": badProto(services) });
  const r = tryProtoc([dir], ["good/v1/good.proto", "bad/v1/bad.proto"], grpckitOpt);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("--grpckit_out:");
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(stackFrame);
  // protoc writes nothing when a plugin fails: not even the good file's output, nor protoc-gen-es's.
  expect(readdirSync(r.out)).toEqual([]);
  // The plugin itself answers with an error and no file at all (no partial output).
  const request = captureRequest([dir], ["good/v1/good.proto", "bad/v1/bad.proto"], grpckitOpt);
  const response = fromBinary(CodeGeneratorResponseSchema, generate(request));
  expect(response.error).toContain(message);
  expect(response.file).toEqual([]);
  return r.stderr;
}

describe("malformed CodeGeneratorRequest", () => {
  const valid = captureRequest([writeProtos({ "good/v1/good.proto": goodProto })], ["good/v1/good.proto"], "target=ts");
  const cases: Record<string, Uint8Array> = {
    "a single 0xff byte": new Uint8Array([0xff]),
    "an invalid wire type": new Uint8Array([0x0f, 0x00]),
    "a length past the end": new Uint8Array([0x7a, 0x10, 0x01]),
    "a truncated request": valid.subarray(0, Math.floor(valid.length / 2)),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    it(`generate() answers ${name} with an error response and no files`, () => {
      const response = fromBinary(CodeGeneratorResponseSchema, generate(bytes));
      expect(response.error).toMatch(/^malformed CodeGeneratorRequest on stdin: /);
      expect(response.error).not.toMatch(stackFrame);
      expect(response.file).toEqual([]);
    });
  }

  it("the bin answers malformed stdin with an error response and exit status 0", () => {
    const r = spawnSync(pluginBin, { input: Buffer.from([0xff, 0x01]) });
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toBe("");
    const response = fromBinary(CodeGeneratorResponseSchema, r.stdout);
    expect(response.error).toMatch(/^malformed CodeGeneratorRequest/);
    expect(response.file).toEqual([]);
  });

  it("a valid request still generates (control)", () => {
    const response = fromBinary(CodeGeneratorResponseSchema, generate(valid));
    expect(response.error ?? "").toBe("");
    expect(response.file.map((f) => f.name)).toContain("good/v1/good_grpckit.ts");
  });
});

describe("bad options", () => {
  it("an unknown option is rejected naming the key", () => {
    expectProtocError("service Ok { rpc Get(Req) returns (Req); }", 'unknown option "bogus"', "target=ts,bogus=1");
  });
  it("a repeated option is rejected naming the key", () => {
    expectProtocError("service Ok { rpc Get(Req) returns (Req); }", 'option "server" is given more than once', "target=ts,server=true,server=false");
  });
  it("a bad boolean is rejected naming the key and the value", () => {
    expectProtocError("service Ok { rpc Get(Req) returns (Req); }", 'option "client" takes true or false, not "maybe"', "target=ts,client=maybe");
  });
});

describe("bad values of protoplugin's options list the allowed values", () => {
  const svc = "service Ok { rpc Get(Req) returns (Req); }";
  // One protoc run end to end; the other values go straight to generate() with the parameter replaced.
  it("target, through protoc", () => {
    expectProtocError(svc, 'option "target" takes js, ts or dts, or several joined with + (default js+dts), not "tsx"', "target=tsx");
  });
  const request = fromBinary(
    CodeGeneratorRequestSchema,
    captureRequest([writeProtos({ "bad/v1/bad.proto": badProto(svc) })], ["bad/v1/bad.proto"], "target=ts"),
  );
  const cases: Array<[string, string]> = [
    ["target=js+d.ts", 'option "target" takes js, ts or dts, or several joined with + (default js+dts), not "js+d.ts" ("d.ts" is not one)'],
    ["target=", 'option "target" takes js, ts or dts, or several joined with + (default js+dts), not ""'],
    ["target=ts,import_extension=mjs", 'option "import_extension" takes none, js or ts (default none), not "mjs"'],
    ["target=js,js_import_style=commonjs", 'option "js_import_style" takes module or legacy_commonjs (default module), not "commonjs"'],
    ["target=ts,keep_empty_files=yes", 'option "keep_empty_files" takes true or false, not "yes"'],
    ["target=ts,ts_nocheck=on", 'option "ts_nocheck" takes true or false, not "on"'],
  ];
  for (const [parameter, message] of cases) {
    it(parameter, () => {
      const bytes = toBinary(CodeGeneratorRequestSchema, { ...request, parameter });
      const response = fromBinary(CodeGeneratorResponseSchema, generate(bytes));
      expect(response.error).toBe(message);
      expect(response.file).toEqual([]);
    });
  }
  it("good values still generate (control)", () => {
    for (const parameter of ["target=ts", "target=ts,import_extension=.js", "target=js,js_import_style=legacy_commonjs"]) {
      const response = fromBinary(CodeGeneratorResponseSchema, generate(toBinary(CodeGeneratorRequestSchema, { ...request, parameter })));
      expect(response.error ?? "", parameter).toBe("");
    }
  });
});

describe("options naming services or methods", () => {
  // The only such option, method_timeouts, was removed (timeouts are service config now): naming
  // any service, known or not, is an error naming the option, never silently ignored.
  it("method_timeouts naming an unknown service is rejected naming the option", () => {
    expectProtocError("service Ok { rpc Get(Req) returns (Req); }", 'option "method_timeouts" was removed', "target=ts,method_timeouts=bad.v1.Nope/Get:5");
  });
});

describe("names the generated code cannot express", () => {
  for (const [rpc, member] of [
    ["Close", "close"],
    ["GetChannel", "getChannel"],
    ["Transport", "transport"],
  ]) {
    // Real APIs have such rpcs (google.cloud.eventarc.v1.Eventarc.GetChannel): the client method gets
    // protobuf-es's `$` escape, the handler keeps the plain name.
    it(`rpc ${rpc} is generated as client method ${member}$ (the client member ${member} keeps its meaning)`, () => {
      const dir = writeProtos({ "bad/v1/bad.proto": badProto(`service Svc { rpc ${rpc}(Req) returns (Req); }`) });
      const r = tryProtoc([dir], ["bad/v1/bad.proto"]);
      expect(r.stderr).toBe("");
      const out = readTree(r.out).get("bad/v1/bad_grpckit.ts") ?? "";
      expect(out).toContain(`  ${member}$(request: `);
      expect(out).toContain(`this.transport.unary(Svc.method.${member}, request, options)`);
      expect(out).toMatch(new RegExp(`^  ${member}\\(request: Req, context: `, "m"));
    });
  }

  it("two rpcs with the same local name (GetUser and getUser)", () => {
    const stderr = expectProtocError("service Svc { rpc GetUser(Req) returns (Req); rpc getUser(Req) returns (Req); }", "bad/v1/bad.proto: rpc bad.v1.Svc.getUser: ");
    expect(stderr).toContain('"getUser"');
    expect(stderr).toContain("rpc GetUser");
  });

  it("GetUser and get_user do not collide: protobuf-es keeps the underscore (getUser, get_user), so both are generated", () => {
    const dir = writeProtos({ "bad/v1/bad.proto": badProto("service Svc { rpc GetUser(Req) returns (Req); rpc get_user(Req) returns (Req); }") });
    const r = tryProtoc([dir], ["bad/v1/bad.proto"]);
    expect(r.stderr).toBe("");
    const out = readTree(r.out).get("bad/v1/bad_grpckit.ts") ?? "";
    expect(out).toContain("this.transport.unary(Svc.method.getUser, request, options)");
    expect(out).toContain("this.transport.unary(Svc.method.get_user, request, options)");
  });

  it("two services whose generated names collide (Foo and PartialFoo both give addPartialFoo)", () => {
    const stderr = expectProtocError(
      "service Foo { rpc Get(Req) returns (Req); } service PartialFoo { rpc Get(Req) returns (Req); }",
      "bad/v1/bad.proto: service bad.v1.",
    );
    expect(stderr).toContain("addPartialFoo");
    expect(stderr).toMatch(/bad\.v1\.Foo/);
    expect(stderr).toMatch(/bad\.v1\.PartialFoo/);
  });

  it("the same services in two files are fine (names are per file)", () => {
    const dir = writeProtos({
      "a/v1/a.proto": badProto("service Foo { rpc Get(Req) returns (Req); }").replace("bad.v1", "a.v1"),
      "b/v1/b.proto": badProto("service Foo { rpc Get(Req) returns (Req); }").replace("bad.v1", "b.v1"),
    });
    const r = tryProtoc([dir], ["a/v1/a.proto", "b/v1/b.proto"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect([...readTree(r.out).keys()]).toEqual(expect.arrayContaining(["a/v1/a_grpckit.ts", "b/v1/b_grpckit.ts"]));
  });
});

describe("errors on inputs with proto3 optional fields", () => {
  it("report only our error: the error response still declares proto3-optional support", () => {
    const dir = writeProtos({
      "opt/v1/opt.proto": `syntax = "proto3";\npackage opt.v1;\nmessage Req { optional string x = 1; }\nservice Svc { rpc Get(Req) returns (Req); }\n`,
    });
    const r = tryProtoc([dir], ["opt/v1/opt.proto"], "target=ts,bogus=1");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown option "bogus"');
    expect(r.stderr).not.toMatch(/optional/i);
  });
});
