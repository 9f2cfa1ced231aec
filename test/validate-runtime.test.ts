import { describe, expect, it } from "vitest";
import { BadRequestSchema, GrpcError, Status } from "@grpckit/runtime";
import {
  codePointLength,
  compilePattern,
  isHeaderName,
  isUnique,
  keySubscript,
  runValidation,
  utf8Length,
  violationsError,
  ValidationRuleError,
  type ViolationCollector,
} from "@grpckit/runtime/validate";

describe("validate runtime: lengths", () => {
  it("counts code points like CEL size(string)", () => {
    expect(codePointLength("")).toBe(0);
    expect(codePointLength("héllo")).toBe(5);
    expect(codePointLength("𝑎𝑏")).toBe(2); // surrogate pairs
    expect(codePointLength("\uD800x")).toBe(2); // lone surrogate counts once
  });
  it("counts UTF-8 bytes without encoding, lone surrogates as U+FFFD", () => {
    for (const s of ["", "abc", "héllo", "日本", "𝑎", "\uD800", "a\uDC00b"]) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe("validate runtime: helpers", () => {
  it("unique: NaN never equal, bytes by content, bigint by value", () => {
    expect(isUnique([Number.NaN, Number.NaN])).toBe(true);
    expect(isUnique([1, 2, 1])).toBe(false);
    expect(isUnique([1n, 2n, 1n])).toBe(false);
    expect(isUnique([new Uint8Array([1]), new Uint8Array([1])])).toBe(false);
    const big = Array.from({ length: 40 }, (_, i) => i);
    expect(isUnique(big)).toBe(true);
    expect(isUnique([...big, Number.NaN, Number.NaN])).toBe(true);
    expect(isUnique([...big, 3])).toBe(false);
  });
  it("map-key subscripts follow protobuf-es pathToString", () => {
    expect(keySubscript('a"b\\c\n')).toBe('["a\\"b\\\\c\\n"]');
    expect(keySubscript(12)).toBe("[12]");
    expect(keySubscript(true)).toBe("[true]");
  });
  it("strict header names accept the `+-.` range (comma included) as protovalidate does", () => {
    expect(isHeaderName("a,b", true)).toBe(true);
    expect(isHeaderName("a b", true)).toBe(false);
    expect(isHeaderName("a b", false)).toBe(true);
  });
});

describe("validate runtime: RE2 patterns", () => {
  it("match with RE2 semantics (find, not full match; RE2 syntax)", () => {
    expect(compilePattern("b+").test("abbbc")).toBe(true);
    expect(compilePattern("(?i)^abc$").test("ABC")).toBe(true);
    expect(() => compilePattern("(a)\\1")).toThrow(); // backreferences are not RE2
  });
  it("a catastrophic-backtracking pattern stays linear on an attacker's input", () => {
    const evil = `${"a".repeat(50_000)}!`;
    const t0 = performance.now();
    expect(compilePattern("^(a+)+$").test(evil)).toBe(false);
    // a backtracking engine would not finish this in our lifetime; RE2 takes milliseconds
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe("validate runtime: collection and errors", () => {
  const check = (m: { bad: number }, c: ViolationCollector): void => {
    for (let i = 0; i < m.bad; i++) if (c.add(`f${i}`, "string.min_len", "string.min_len", "too short", false)) return;
    const n = c.list.length;
    c.add("", "", "message.oneof", "nested", false);
    c.nest(n, "child[2]");
  };
  it("returns one shared valid result, all violations, or the first with failFast", () => {
    expect(runValidation(check, { bad: 0 }).kind).toBe("invalid"); // nested one
    const all = runValidation(check, { bad: 3 });
    expect(all.kind === "invalid" && all.violations.map((v) => v.field)).toEqual(["f0", "f1", "f2", "child[2]"]);
    const fast = runValidation(check, { bad: 3 }, { failFast: true });
    expect(fast.kind === "invalid" && fast.violations.length).toBe(1);
    expect(runValidation(() => {}, {})).toBe(runValidation(() => {}, {}));
  });
  it("turns a ValidationRuleError into { kind: error } and leaves other exceptions alone", () => {
    const r = runValidation(() => { throw new ValidationRuleError("runtime", "boom"); }, {});
    expect(r.kind === "error" && r.error.kind).toBe("runtime");
    expect(() => runValidation(() => { throw new TypeError("bug"); }, {})).toThrow(TypeError);
    expect(runValidation(() => {}, {}).kind).toBe("valid"); // the shared collector was released
  });
  it("builds INVALID_ARGUMENT with a google.rpc.BadRequest listing the field violations", () => {
    const err = violationsError([{ field: "email", rule: "string.email", ruleId: "string.email", message: "must be a valid email address", forKey: false }]);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    const br = err.findDetail(BadRequestSchema);
    expect(br?.fieldViolations.map((v) => [v.field, v.description, v.reason])).toEqual([["email", "must be a valid email address", "string.email"]]);
  });
});
