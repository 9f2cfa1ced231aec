import { describe, expect, it } from "vitest";
import { RE2JS } from "@bufbuild/re2";
import { compilePattern } from "@grpckit/runtime/validate";
import { sequencePattern } from "../templates/runtime/validate/pattern-sequence.js";
import { mulberry32 as prng } from "./support/prng.js";


const atoms = ["[a-z]", "[a-z0-9-]", "[A-Z]", "[0-9]", "\\d", "\\w", "x", "-", "_", "[abc]", "[a-f0-9]"];
const quantifiers = ["", "{2}", "{0,3}", "{1,4}", "?", "+", "*", "{3,}"];
const chars = ["a", "b", "z", "A", "Z", "0", "9", "-", "_", "x", "é", "$", " ", "\n", "😀", "."];

describe("string.pattern fast paths agree with RE2 (protovalidate's engine)", () => {
  it("on seeded random anchored patterns and inputs, whichever engine compilePattern picks", () => {
    const rnd = prng(20261121);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    let sequenceTaken = 0;
    const mismatches: string[] = [];
    for (let p = 0; p < 3000; p++) {
      const n = 1 + Math.floor(rnd() * 4);
      let body = "";
      for (let i = 0; i < n; i++) body += pick(atoms) + pick(quantifiers);
      const source = rnd() < 0.85 ? `^${body}$` : rnd() < 0.5 ? `^${body}` : body;
      const ours = compilePattern(source);
      const re2 = RE2JS.compile(source);
      if (sequencePattern(source) !== undefined) sequenceTaken++;
      for (let k = 0; k < 25; k++) {
        let s = "";
        const len = Math.floor(rnd() * 9);
        for (let i = 0; i < len; i++) s += pick(chars);
        if (ours.test(s) !== re2.test(s)) mismatches.push(`${source} on ${JSON.stringify(s)}: ours ${ours.test(s)}, RE2 ${re2.test(s)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(sequenceTaken).toBeGreaterThan(100); // the fast path is really exercised
  });
});
