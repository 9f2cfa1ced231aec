import { describe, expect, it } from "vitest";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, type CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import { captureRequest } from "./support/protoc.js";
import { writeProtos } from "./support/protoc-result.js";

// The built plugin's decoder (`npm run build` first).
const { decodeRequest } = (await import("../dist/esm/src/request/decode-request.js")) as {
  decodeRequest(bytes: Uint8Array): CodeGeneratorRequest;
};

/** A source-retention option, so that a file's proto_file copy differs from its source_file_descriptors copy. */
const protos = {
  "opts/v1/opts.proto": `syntax = "proto3";
package opts.v1;
import "google/protobuf/descriptor.proto";
extend google.protobuf.MessageOptions { string note = 50001 [retention = RETENTION_SOURCE]; }
`,
  "a/v1/a.proto": `syntax = "proto3";
package a.v1;
import "opts/v1/opts.proto";
// Req's comment.
message Req { option (opts.v1.note) = "source only"; string id = 1; }
service A { rpc Get(Req) returns (Req); }
`,
  "b/v1/b.proto": `syntax = "proto3";
package b.v1;
import "a/v1/a.proto";
service B { rpc Get(a.v1.Req) returns (a.v1.Req); }
`,
};

describe("decodeRequest", () => {
  const bytes = captureRequest([writeProtos(protos)], ["a/v1/a.proto", "b/v1/b.proto"], "target=ts");
  const full = fromBinary(CodeGeneratorRequestSchema, bytes);

  it("decodes like fromBinary, with each file to generate's proto_file entry taken from source_file_descriptors", () => {
    const decoded = decodeRequest(bytes);
    expect(full.sourceFileDescriptors.map((f) => f.name)).toEqual(["a/v1/a.proto", "b/v1/b.proto"]);
    expect(decoded.protoFile.map((f) => f.name)).toEqual(full.protoFile.map((f) => f.name));
    for (const [i, f] of decoded.protoFile.entries()) {
      const source = decoded.sourceFileDescriptors.find((s) => s.name === f.name);
      if (source !== undefined) expect(f).toBe(source);
      else expect(f).toEqual(full.protoFile[i]);
    }
    // Every other field, compared encoded (unknown fields' bytes are Uint8Array here, Buffer from fromBinary on a Buffer).
    const rest = (r: CodeGeneratorRequest) => toBinary(CodeGeneratorRequestSchema, { ...r, protoFile: [] });
    expect(rest(decoded)).toEqual(rest(full));
  });

  it("keeps the source-retention options the proto_file copy lacks", () => {
    const a = (r: CodeGeneratorRequest) => r.protoFile.find((f) => f.name === "a/v1/a.proto")!;
    expect(a(full).messageType[0]!.options?.$unknown).toBeUndefined();
    expect(a(decodeRequest(bytes)).messageType[0]!.options?.$unknown?.length).toBe(1);
  });

  it("throws fromBinary's error on bytes that do not decode", () => {
    const truncated = bytes.subarray(0, Math.floor(bytes.length / 2));
    const expected = (() => {
      try {
        fromBinary(CodeGeneratorRequestSchema, truncated);
      } catch (err) {
        return err;
      }
      throw new Error("the truncated request decoded");
    })();
    expect(() => decodeRequest(truncated)).toThrow(expected as Error);
  });
});
