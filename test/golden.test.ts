import { describe, expect, it } from "vitest";
import { describeDiff, goldenProtos, listGoldenCases, readExpected, updateCommand, writeExpected } from "./support/golden.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freshDir, readTree, runProtoc } from "./support/protoc.js";
import { writeValidateDescriptorSet } from "./support/validate-proto.js";

const update = process.env["UPDATE_GOLDEN"] === "1";

describe("golden files", () => {
  for (const c of listGoldenCases()) {
    it(`${c.name} (${c.parameter})`, () => {
      // buf/validate/validate.proto comes from the descriptor @bufbuild/protovalidate embeds, never a copy.
      const usesValidate = c.inputs.some((f) => readFileSync(join(goldenProtos, f), "utf8").includes("buf/validate/validate.proto"));
      const extraArgs = usesValidate ? [`--descriptor_set_in=${writeValidateDescriptorSet(freshDir("golden-validate-"))}`] : [];
      const out = runProtoc({ includes: [goldenProtos], files: c.inputs, grpckitOpt: c.parameter, esOpt: null, extraArgs });
      const actual = readTree(out);
      if (update) {
        writeExpected(c, actual);
        return;
      }
      const expected = readExpected(c);
      const problems: string[] = [];
      for (const name of new Set([...expected.keys(), ...actual.keys()])) {
        const e = expected.get(name);
        const a = actual.get(name);
        if (e === undefined) problems.push(`unexpected file ${name}`);
        else if (a === undefined) problems.push(`missing file ${name}`);
        else if (e !== a) problems.push(`${name} differs:\n${describeDiff(e, a)}`);
      }
      if (problems.length > 0) {
        expect.fail(`golden case ${c.name} does not match; read the diff, then rewrite with \`${updateCommand}\`\n\n${problems.join("\n\n")}`);
      }
      expect(actual.size).toBeGreaterThan(0);
    });
  }
});
