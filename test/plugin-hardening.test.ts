// The plugin on input that is legal but unusual, or subtly wrong: rpcs named like Object.prototype members
// (__proto__, HasOwnProperty, ToLocaleString) and Then, enum rules naming undeclared values (proto3 enums are
// open), an invalid RE2 string.pattern and a predefined rule whose CEL does not parse (both fail generation,
// naming the field), runtime_import values that are no package specifier. Real protoc + protoc-gen-es + the
// built plugin (`npm run build` first).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { bin, pluginBin, protocInclude } from "./support/paths.js";
import { captureRequest, freshDir, readTree } from "./support/protoc.js";
import { writeProtos } from "./support/protoc-result.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";
import { typecheckDir } from "./support/typecheck.js";
import { insecure, startServer } from "./support/grpc.js";

const { generate } = (await import("../dist/esm/src/run-plugin.js")) as { generate(bytes: Uint8Array): Uint8Array };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Run protoc (protoc-gen-es + protoc-gen-grpckit) on inline protos; `generateOnly` limits files_to_generate. */
function gen(protos: Record<string, string>, opt = "target=ts", o: { validate?: boolean; generateOnly?: string[] } = {}) {
  const src = freshDir("adv-src-");
  for (const [name, text] of Object.entries(protos)) {
    mkdirSync(join(src, name, ".."), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  const out = freshDir("adv-out-");
  const args = [`-I${src}`, `-I${protocInclude}`, `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`, `--es_out=${out}`, "--es_opt=target=ts"];
  args.push(`--plugin=protoc-gen-grpckit=${pluginBin}`, `--grpckit_out=${out}`, `--grpckit_opt=${opt}`);
  const files = [...(o.generateOnly ?? Object.keys(protos))];
  if (o.validate === true) {
    args.push(`--descriptor_set_in=${writeValidateDescriptorSet(src)}`);
    files.push("buf/validate/validate.proto");
  }
  const r = spawnSync(bin("protoc"), [...args, ...files], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr, out, files: r.status === 0 ? readTree(out) : new Map<string, string>() };
}

/** The plugin's CodeGeneratorResponse for one proto and a parameter (in-process). */
function respond(parameter: string) {
  const dir = writeProtos({ "a/v1/a.proto": `syntax = "proto3"; package a.v1; message M {} service S { rpc A(M) returns (M); }` });
  return fromBinary(CodeGeneratorResponseSchema, generate(captureRequest([dir], ["a/v1/a.proto"], parameter)));
}

const validateHeader = `syntax = "proto3"; package v.v1; import "buf/validate/validate.proto";\n`;

describe("names that are Object.prototype members", () => {
  it("an implemented rpc named __proto__ is served", async () => {
    const r = gen({ "odd/v1/odd.proto": `syntax = "proto3"; package odd.v1; message M { string id = 1; }\nservice S { rpc __proto__(M) returns (M); }\n` });
    expect(r.status).toBe(0);
    const g: Any = await import(`${r.out}/odd/v1/odd_grpckit.ts`);
    const s = await startServer((server) => g.addS(server, { async __proto__() { return { id: "ok" }; } }));
    const c = new g.SClient(s.address, insecure());
    try {
      const res = await c.__proto__({ id: "x" }, { timeoutMs: 3000 }).then((m: Any) => m.id, (e: Any) => `${e.codeName}`);
      expect(res).toBe("ok");
    } finally {
      c.close();
      await s.stop();
    }
  });

  it("left-out rpcs named hasOwnProperty / toLocaleString answer UNIMPLEMENTED from addPartial", async () => {
    const r = gen({
      "odd/v1/odd.proto": `syntax = "proto3"; package odd.v1; message M { string id = 1; }
service S { rpc HasOwnProperty(M) returns (M); rpc ToLocaleString(M) returns (stream M); rpc Plain(M) returns (M); }\n`,
    });
    expect(r.status).toBe(0);
    const g: Any = await import(`${r.out}/odd/v1/odd_grpckit.ts`);
    const s = await startServer((server) => g.addPartialS(server, { async plain() { return { id: "p" }; } }, { onInternalError() {} }));
    const c = new g.SClient(s.address, insecure());
    try {
      const unary = await c.hasOwnProperty({ id: "x" }, { timeoutMs: 3000 }).then(() => "OK", (e: Any) => e.codeName);
      let stream = "OK";
      try {
        for await (const _ of c.toLocaleString({ id: "x" }, { timeoutMs: 3000 })) void _;
      } catch (e) {
        stream = (e as Any).codeName;
      }
      expect([unary, stream]).toEqual(["UNIMPLEMENTED", "UNIMPLEMENTED"]);
    } finally {
      c.close();
      await s.stop();
    }
  });

  it("addPartial without the rpc named __proto__ registers (the method answers UNIMPLEMENTED)", async () => {
    const r = gen({ "odd/v1/odd.proto": `syntax = "proto3"; package odd.v1; message M {}\nservice S { rpc __proto__(M) returns (M); rpc Plain(M) returns (M); }\n` });
    expect(r.status).toBe(0);
    const g: Any = await import(`${r.out}/odd/v1/odd_grpckit.ts`);
    const s = await startServer(() => {});
    try {
     
      expect(() => g.addPartialS(s.server, { async plain() { return {}; } })).not.toThrow();
    } finally {
      await s.stop();
    }
  });
});

describe("buf.validate rules", () => {
  it("an invalid string.pattern fails generation with a clear error", () => {
    const r = gen({ "v/v1/re.proto": validateHeader + `message M { string a = 1 [(buf.validate.field).string.pattern = "(["]; }\n` }, "target=ts", { validate: true });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("v/v1/re.proto: message v.v1.M: invalid buf.validate rule: field a: string.pattern \"([\" is not a valid RE2 expression");
  });

  it("enum rules with undeclared values give validators that type-check", () => {
    const r = gen({
      "v/v1/en.proto": validateHeader + `enum E { E_UNSPECIFIED = 0; E_A = 1; }
message M { E a = 1 [(buf.validate.field).enum = {in: [1, 7]}]; E b = 2 [(buf.validate.field).enum.const = 9]; }\n`,
    }, "target=ts", { validate: true });
    expect(r.status).toBe(0);
    expect(typecheckDir(r.out).filter((d) => !d.includes("_pb.ts"))).toEqual([]);
  });

  it("a predefined rule whose CEL does not compile fails generation", () => {
    const r = gen({
      "v/v1/pre.proto": `syntax = "proto2"; package v.v1; import "buf/validate/validate.proto";
extend buf.validate.StringRules { optional bool is_abc = 80048952 [(buf.validate.predefined).cel = {id: "abc", expression: "this == ("}]; }
message M { optional string a = 1 [(buf.validate.field).string.(is_abc) = true]; }\n`,
    }, "target=ts", { validate: true });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("v/v1/pre.proto: message v.v1.M: invalid buf.validate rule: field a: predefined rule v.v1.is_abc");
  });

});

describe("plugin options", () => {
  // runtime_import must be a bare package specifier (its /validate and /telemetry subpaths are imported).
  for (const bad of ["@x/y/", "@", "a/../../b"]) {
    it(`runtime_import=${bad} is rejected`, () => {
      expect(respond(`target=ts,runtime_import=${bad}`).error ?? "").toContain('option "runtime_import"');
    });
  }
});

describe("client method names", () => {
  it("a client with an rpc named Then (then$ on the client) can be returned from an async function", async () => {
    const r = gen({ "odd/v1/then.proto": `syntax = "proto3"; package odd.v1; message M {}\nservice S { rpc Then(M) returns (M); }\n` });
    expect(r.status).toBe(0);
    const g: Any = await import(`${r.out}/odd/v1/then_grpckit.ts`);
    const client = new g.SClient("127.0.0.1:1", insecure());
    const swallow = () => {};
    process.on("unhandledRejection", swallow); // the accidental RPC's promise rejects with nobody listening
    try {
      const got = await Promise.race([(async () => client)(), new Promise((resolve) => setTimeout(() => resolve("not resolved"), 1500))]);
      expect(got).toBe(client);
    } finally {
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.off("unhandledRejection", swallow);
    }
  });
});
