import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The protovalidate v1.2.2 conformance suite (2872 cases in
 * ../shared/protovalidate-conformance), run against validators generated for
 * the cases' descriptor set by the built plugin (`npm run build` first).
 * Expected failures: none in default mode. With --strict_message
 * --strict_error, 2 (custom_rules compilation/incorrect_type and
 * compilation/missing_field: CEL type errors surface at run time, exactly as
 * in @bufbuild/protovalidate, whose reference score is also 2870).
 */
const data = join(process.cwd(), "../shared/protovalidate-conformance");

describe.skipIf(!existsSync(join(data, "cases.jsonl")))("protovalidate conformance", () => {
  it("passes all 2872 cases", { timeout: 180_000 }, () => {
    let out: string;
    try {
      out = execFileSync(process.execPath, ["conformance/run.mjs"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    const last = out.trim().split("\n").at(-1);
    expect(out.split("\n").filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(last).toBe("2872 passed, 0 failed");
  });
});

describe.skipIf(!existsSync(join(data, "cases.binpb")))("rules that cannot hold", () => {
  it("fail generation by default, naming the file and message", { timeout: 60_000 }, () => {
    let err = "";
    try {
      execFileSync("node_modules/.bin/protoc", [
        `--descriptor_set_in=${join(data, "cases.binpb")}`,
        "--plugin=protoc-gen-grpckit=bin/protoc-gen-grpckit",
        "--grpckit_out=tmp",
        "buf/validate/conformance/cases/messages.proto",
      ], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toMatch(/buf\/validate\/conformance\/cases\/messages\.proto: message buf\.validate\.conformance\.cases\.[\w.]+: invalid buf\.validate rule: /);
  });
});
