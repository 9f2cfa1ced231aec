import { describe, expect, it } from "vitest";
import { ScalarType } from "@bufbuild/protobuf";
import { isAddress, isEmail, isHostAndPort, isHostname, isIp, isIpPrefix } from "@grpckit/runtime/validate";
import { nativePattern } from "../templates/runtime/validate/pattern-native.js";
import { compileCel } from "../src/validate/compile-cel.js";

/** Unit tests of the network formats (protovalidate v1.2.2 definitions), the native-pattern subset and the CEL subset compiler. */
describe("network formats", () => {
  it("email: WHATWG definition", () => {
    for (const s of ["a@b", "ada.lovelace+x@example.co.uk", "!#$%&'*+/=?^_`{|}~-@x"]) expect(isEmail(s), s).toBe(true);
    for (const s of ["", "a", "@b", "a@", "a@-b", "a@b-", "a@b..c", "a b@c", "ü@x.com", "a@b.c\n", `a@${"b".repeat(64)}`]) expect(isEmail(s), s).toBe(false);
  });
  it("hostname: labels of 1-63, no edge hyphens, last label not all digits, 253 max, one trailing dot", () => {
    for (const s of ["a", "example.com", "example.com.", "a-b.c1", "1a", `${"x".repeat(63)}.com`]) expect(isHostname(s), s).toBe(true);
    for (const s of ["", ".", "a..b", "a.b..", "-a", "a-", "123", "a.123", "a_b", "é.com", `${"x".repeat(64)}.com`, `${"a.".repeat(127)}bb`]) expect(isHostname(s), s).toBe(false);
  });
  it("ip: dotted IPv4 without leading zeros; IPv6 with ::, embedded IPv4 and zones", () => {
    for (const s of ["0.0.0.0", "255.255.255.255", "::", "::1", "1::", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "fe80::1%eth0", "1:2:3:4:5:6:7::"]) expect(isIp(s), s).toBe(true);
    for (const s of ["", "256.0.0.0", "01.2.3.4", "1.2.3", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:", "12345::", "fe80::1%", "::1.2.3.4%x", "1::2:3:4:5:6:7:8"]) expect(isIp(s), s).toBe(false);
    expect(isIp("1.2.3.4", 6)).toBe(false);
    expect(isIp("::1", 4)).toBe(false);
  });
  it("ip prefixes: lengths in range, no zone, strict host bits", () => {
    expect(isIpPrefix("10.0.0.0/8", 4, true)).toBe(true);
    expect(isIpPrefix("10.0.0.1/8", 4, true)).toBe(false);
    expect(isIpPrefix("10.0.0.1/8", 4, false)).toBe(true);
    expect(isIpPrefix("10.0.0.0/33", 4)).toBe(false);
    expect(isIpPrefix("10.0.0.0/08", 4)).toBe(false);
    expect(isIpPrefix("2001:db8::/32", 6, true)).toBe(true);
    expect(isIpPrefix("2001:db8::1/32", 6, true)).toBe(false);
    expect(isIpPrefix("::/129", 6)).toBe(false);
    expect(isIpPrefix("fe80::1%eth0/64", 6)).toBe(false);
    expect(isIpPrefix("::1/128", 0, true)).toBe(true);
  });
  it("host_and_port and address", () => {
    for (const s of ["example.com:80", "1.2.3.4:0", "[::1]:65535"]) expect(isHostAndPort(s), s).toBe(true);
    for (const s of ["", "example.com", "example.com:65536", "example.com:080", "[::1]", "::1:80", "[1.2.3.4]:22", "a:"]) expect(isHostAndPort(s), s).toBe(false);
    expect(isHostAndPort("[::1]", false)).toBe(true);
    expect(isAddress("example.com")).toBe(true);
    expect(isAddress("::1")).toBe(true);
    expect(isAddress("a_b")).toBe(false);
  });
});

describe("native pattern subset", () => {
  it("takes anchored single-atom sequences with at most one unbounded repetition", () => {
    expect(nativePattern("^[a-z][a-z0-9-]{0,31}$")).toBeInstanceOf(RegExp);
    expect(nativePattern("^\\d+$")).toBeInstanceOf(RegExp);
    expect(nativePattern("^[A-Z_]+[0-9]?$")).toBeInstanceOf(RegExp);
  });
  it("leaves everything else to RE2 (groups, alternation, nested or multiple unbounded quantifiers, `.`, \\s, negated classes, flags, unanchored)", () => {
    for (const p of ["^(a+)+$", "^a|b$", "^a+b+$", "^.*$", "^\\s+$", "^[^a]+$", "(?i)^abc$", "[0-9]{2}", "^a+?$", "^[[:alpha:]]$", "^é+$"]) {
      expect(nativePattern(p), p).toBeUndefined();
    }
  });
});

describe("CEL subset compiled to TypeScript", () => {
  const str = { kind: "value", scalar: ScalarType.STRING } as const;
  it("compiles comparisons, logic, size() and string methods", () => {
    expect(compileCel("this.startsWith('x') || this == ''", str)?.join("")).toBe('(v.startsWith("x") || (v === ""))');
    expect(compileCel("size(this) > 2", str)?.map((x) => (typeof x === "string" ? x : `<${x.runtime}>`)).join("")).toBe("(<codePointLength>(v) > (2))");
  });
  it("declines what it cannot translate exactly (the rule then runs on @bufbuild/cel)", () => {
    for (const e of ["this % 2 == 0", "this.isEmail()", "size(this) > 2u", "this == 1", "this.matches('a')", "'a' < this", "has(this.x)", "this + 'a'"]) {
      expect(compileCel(e, str), e).toBeUndefined();
    }
    expect(compileCel("this > 1.5", { kind: "value", scalar: ScalarType.INT32 })).toBeUndefined(); // mixed int / double
    expect(compileCel("this > 1", { kind: "value", scalar: ScalarType.INT64 })).toBeUndefined(); // 64-bit
  });
});
