import { describe, expect, it } from "vitest";
import { describeDiff, goldenProtos, listGoldenCases, readExpected, updateCommand, writeExpected } from "./support/golden.js";
import { readTree, runProtoc } from "./support/protoc.js";

const update = process.env["UPDATE_GOLDEN"] === "1";

describe("golden files", () => {
  for (const c of listGoldenCases()) {
    it(`${c.name} (${c.parameter})`, () => {
      const out = runProtoc({ includes: [goldenProtos], files: c.inputs, grpckitOpt: c.parameter, esOpt: null });
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
