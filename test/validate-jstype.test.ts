// `jstype = JS_STRING` 64-bit fields: protobuf-es gives them as strings, while the compiled checks
// read 64-bit integers as bigint. A field with rules is delegated to @bufbuild/protovalidate (the
// same verdicts); a field without rules is checked by nothing and must not make a validator.
import { existsSync, readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { generateValidated } from "./support/validate-proto.js";

const proto = (body: string) => `syntax = "proto3";
package jst.v1;
import "buf/validate/validate.proto";
${body}
`;

let plain: string;
let ruled: string;
beforeAll(() => {
  plain = generateValidated({ "jst/v1/plain.proto": proto(`message Counter { int64 total = 1 [jstype = JS_STRING]; string name = 2 [(buf.validate.field).string.min_len = 1]; }\nmessage Bare { int64 id = 1 [jstype = JS_STRING]; }`) });
  ruled = generateValidated({ "jst/v1/ruled.proto": proto(`message Limit { int64 max = 1 [jstype = JS_STRING, (buf.validate.field).int64.gt = 5]; }`) });
}, 120_000);

describe("jstype = JS_STRING", () => {
  it("a field without rules needs no validator: a message of only such fields gets none, another is compiled", () => {
    const text = readFileSync(`${plain}/jst/v1/plain_validate.ts`, "utf8");
    expect(text).toContain("export function validateCounter(");
    expect(text).not.toContain("validateBare");
    expect(text).not.toContain("@bufbuild/protovalidate");
  });

  it("a field with rules is delegated and gives protovalidate's verdicts", async () => {
    const text = readFileSync(`${ruled}/jst/v1/ruled_validate.ts`, "utf8");
    expect(text).toContain("validateLimit");
    const pb = await import(`${ruled}/jst/v1/ruled_pb.ts`);
    const v = await import(`${ruled}/jst/v1/ruled_validate.ts`);
    expect(v.validateLimit(create(pb.LimitSchema, { max: "6" })).kind).toBe("valid");
    const bad = v.validateLimit(create(pb.LimitSchema, { max: "5" }));
    expect(bad.kind).toBe("invalid");
    expect(bad.violations.map((x: { ruleId: string }) => x.ruleId)).toEqual(["int64.gt"]);
  });

  it("a file whose only 64-bit string fields have no rules and no other rules gets no _validate file", () => {
    const out = generateValidated({ "jst/v1/none.proto": `syntax = "proto3";\npackage jst.v1;\nmessage Only { int64 id = 1 [jstype = JS_STRING]; }\n` });
    expect(existsSync(`${out}/jst/v1/none_pb.ts`)).toBe(true);
    expect(existsSync(`${out}/jst/v1/none_validate.ts`)).toBe(false);
  });
});
