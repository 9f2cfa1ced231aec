import { beforeAll, describe, expect, it } from "vitest";
import { mulberry32 as prng } from "./support/prng.js";
import { create, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator } from "@bufbuild/protovalidate";
import { generateValidated } from "./support/validate-proto.js";

/**
 * Differential tests: generated validators vs @bufbuild/protovalidate on
 * seeded random inputs built around each rule's boundaries (lengths in code
 * points and bytes with multi-byte characters and lone surrogates, numeric
 * ranges with NaN, ±Infinity and -0, tricky emails / hostnames / IPs /
 * prefixes / host:port, empty values, repeated unique, map keys, CEL rules
 * compiled to TypeScript and evaluated at run time). Verdicts and violations
 * (field, rule, rule_id, message, for_key, in order) must be identical, with
 * and without fail-fast.
 */
const proto = `syntax = "proto3";
package diff.v1;
import "buf/validate/validate.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";

message Formats {
  string email = 1 [(buf.validate.field).string.email = true];
  string hostname = 2 [(buf.validate.field).string.hostname = true];
  string ip = 3 [(buf.validate.field).string.ip = true];
  string ipv4 = 4 [(buf.validate.field).string.ipv4 = true];
  string ipv6 = 5 [(buf.validate.field).string.ipv6 = true];
  string ip_prefix = 6 [(buf.validate.field).string.ip_prefix = true];
  string ipv4_prefix = 7 [(buf.validate.field).string.ipv4_prefix = true];
  string ipv6_prefix = 8 [(buf.validate.field).string.ipv6_prefix = true];
  string ip_with_prefixlen = 9 [(buf.validate.field).string.ip_with_prefixlen = true];
  string ipv4_with_prefixlen = 10 [(buf.validate.field).string.ipv4_with_prefixlen = true];
  string ipv6_with_prefixlen = 11 [(buf.validate.field).string.ipv6_with_prefixlen = true];
  string address = 12 [(buf.validate.field).string.address = true];
  string host_and_port = 13 [(buf.validate.field).string.host_and_port = true];
  string uuid = 14 [(buf.validate.field).string.uuid = true];
}

message Lengths {
  string chars = 1 [(buf.validate.field).string = {min_len: 2, max_len: 4}];
  string bytes_len = 2 [(buf.validate.field).string = {min_bytes: 2, max_bytes: 5}];
  bytes raw = 3 [(buf.validate.field).bytes = {min_len: 1, max_len: 3}];
  string simple_pattern = 4 [(buf.validate.field).string.pattern = "^[a-z][a-z0-9-]{0,3}$"];
  string re2_pattern = 5 [(buf.validate.field).string.pattern = "^(ab|c)+\\\\d?$"];
  string unanchored = 6 [(buf.validate.field).string.pattern = "[0-9]{2}"];
  string affixes = 7 [(buf.validate.field).string = {prefix: "é", suffix: "z", contains: "-", not_contains: "--"}];
  optional string opt = 8 [(buf.validate.field).string.len = 1];
  string exact_chars = 9 [(buf.validate.field).string.len = 3];
  string exact_bytes = 10 [(buf.validate.field).string.len_bytes = 4];
  string both = 11 [(buf.validate.field).string = {min_len: 3, max_len: 5, min_bytes: 5, max_bytes: 10}];
}

message Numbers {
  int32 i = 1 [(buf.validate.field).int32 = {gt: -5, lte: 5}];
  uint32 u = 2 [(buf.validate.field).uint32 = {gte: 1, lt: 10}];
  int64 l = 3 [(buf.validate.field).int64 = {gt: 10, lt: 0}];
  double d = 4 [(buf.validate.field).double = {gte: -1.5, lte: 1.5}];
  float f = 5 [(buf.validate.field).float = {gt: 0, finite: true}];
  double listed = 6 [(buf.validate.field).double = {in: [0, 1.5]}];
  sint32 unlisted = 7 [(buf.validate.field).sint32 = {not_in: [0, -1]}];
  double excl = 8 [(buf.validate.field).double = {lt: -1, gt: 1}];
}

message Inner {
  string id = 1 [(buf.validate.field).string.uuid = true];
}

message Collections {
  repeated string tags = 1 [(buf.validate.field).repeated = {min_items: 1, max_items: 3, unique: true, items: {string: {min_len: 1}}}];
  repeated double ds = 2 [(buf.validate.field).repeated.unique = true];
  map<string, int32> labels = 3 [(buf.validate.field).map = {max_pairs: 2, keys: {string: {max_len: 3}}, values: {int32: {gte: 0}}}];
  repeated Inner inner = 4;
  map<int32, Inner> by_id = 5 [(buf.validate.field).map.keys.int32.gt = 0];
}

message Times {
  google.protobuf.Duration d = 1 [(buf.validate.field).duration = {gte: {seconds: 1}, lt: {seconds: 5, nanos: 500000000}}];
  google.protobuf.Duration exclusive = 2 [(buf.validate.field).duration = {gt: {seconds: 5}, lt: {seconds: 1}}];
  google.protobuf.Duration listed = 3 [(buf.validate.field).duration = {in: [{seconds: 1}, {nanos: 1000}]}];
  google.protobuf.Timestamp t = 4 [(buf.validate.field).timestamp = {gt: {seconds: 1000}, lte: {seconds: 2000}}];
  google.protobuf.Timestamp past = 5 [(buf.validate.field).timestamp.lt_now = true];
  google.protobuf.Timestamp near = 6 [(buf.validate.field).timestamp.within = {seconds: 3600}];
  google.protobuf.Duration fixed = 7 [(buf.validate.field).duration.const = {seconds: 2}];
  google.protobuf.Timestamp future = 8 [(buf.validate.field).timestamp = {gt_now: true, lt: {seconds: 99999999999}}];
  google.protobuf.Duration unlisted = 9 [(buf.validate.field).duration = {not_in: [{seconds: -1}], lte: {seconds: 1000}}];
}

message Cel {
  option (buf.validate.message).cel = {id: "a_ne_b", message: "a must differ from b", expression: "this.a != this.b"};
  option (buf.validate.message).cel = {id: "a_size", expression: "size(this.a) <= 5 ? '' : 'a is too long'"};
  option (buf.validate.message).cel = {id: "n_small", expression: "this.n < 100 && (this.b == '' || this.b.endsWith('!'))"};
  string a = 1 [(buf.validate.field).cel = {id: "a_prefix", message: "a must start with x", expression: "this.startsWith('x') || this == ''"}];
  string b = 2 [(buf.validate.field).cel = {id: "b_ip", expression: "this == '' || this.isIp(4) || this.isEmail()"}];
  int32 n = 3 [(buf.validate.field).cel = {id: "n_even", expression: "this % 2 == 0"}];
  double x = 4 [(buf.validate.field).cel = {id: "x_nan", message: "x must be a number", expression: "!this.isNan()"}];
}
`;

const trickyStrings = [
  "", "a", "ab", "abc", "abcd", "abcde", "x", "xy!", "é", "éé", "日本", "😀", "😀😀", "a😀", "\uD800", "\uDC00x", "a\uD800b",
  "ada@example.com", "a.b+c@ex-ample.co", "a@b", "@b.com", "a@", "a@-b.com", "a@b-.com", "a@b..com", "a b@c.com", "a@b.c.", "ü@x.com", "a@" + "b".repeat(63) + ".com", "a@" + "b".repeat(64) + ".com",
  "example.com", "example.com.", "ex_ample.com", "-ex.com", "ex-.com", "123", "1.2.3", "a.123", "123.a", "a..b", ".", "x".repeat(63), "x".repeat(64), `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.com`,
  "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.04", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", "::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:",
  "fe80::1%eth0", "fe80::1%", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "::1.2.3", "12345::", "g::1", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1::2:/64",
  "10.0.0.0/8", "10.0.0.1/8", "10.0.0.0/32", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/", "::/0", "::1/128", "2001:db8::/32", "2001:db8::1/32", "2001:db8::/129", "fe80::1%eth0/64", "1.2.3.4/24",
  "example.com:80", "example.com:0", "example.com:65535", "example.com:65536", "example.com:080", "[::1]:8080", "[::1]", "[::1]:", "::1:80", "1.2.3.4:22", "[1.2.3.4]:22", "host:", ":80",
  "8f14e45f-ceea-467a-9575-6f3e2f1a7c01", "8F14E45F-CEEA-467A-9575-6F3E2F1A7C01", "8f14e45fceea467a95756f3e2f1a7c01",
  "ab", "abab", "abc", "abcc9", "ab9", "c12", "a-1", "A-1", "a1234", "z9", "x12y", "é-z", "é--z", "éz", "é-",
];

function randomString(r: () => number): string {
  if (r() < 0.75) return trickyStrings[Math.floor(r() * trickyStrings.length)]!;
  const alphabet = ["a", "b", "c", "x", "z", "-", ".", ":", "/", "%", "@", "1", "9", "0", "é", "😀", "\uD800", " ", "[", "]", "!"];
  let s = "";
  const n = Math.floor(r() * 9);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
}

const numbers = [0, -0, 1, -1, 1.5, -1.5, 2, 5, 6, -5, -4, 9, 10, 11, 99, 100, 0.5, 1e-300, Number.NaN, Infinity, -Infinity, 2147483647, -2147483648, 3.4e38];

function randomScalar(r: () => number, t: ScalarType): unknown {
  const n = numbers[Math.floor(r() * numbers.length)]!;
  switch (t) {
    case ScalarType.STRING:
      return randomString(r);
    case ScalarType.BOOL:
      return r() < 0.5;
    case ScalarType.BYTES:
      return new Uint8Array(Math.floor(r() * 5)).map(() => Math.floor(r() * 256));
    case ScalarType.DOUBLE:
      return n;
    case ScalarType.FLOAT:
      return Math.fround(n);
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64:
      return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
    case ScalarType.UINT64: case ScalarType.FIXED64:
      return Number.isFinite(n) ? BigInt(Math.abs(Math.trunc(n))) : 0n;
    case ScalarType.UINT32: case ScalarType.FIXED32:
      return Number.isFinite(n) ? Math.abs(Math.trunc(n)) % 2 ** 32 : 0;
    default:
      return Number.isFinite(n) ? Math.trunc(n) | 0 : 0;
  }
}

const nowSeconds = Math.floor(Date.now() / 1000);
const timeSeconds = [0, 1, -1, 2, 4, 5, 6, 999, 1000, 1001, 2000, 2001, nowSeconds - 4000, nowSeconds - 100, nowSeconds + 100, nowSeconds + 4000];
const timeNanos = [0, 1000, 500000000, 999999999];

function randomMessage(r: () => number, desc: DescMessage, depth = 0): Message {
  if (desc.typeName === "google.protobuf.Duration" || desc.typeName === "google.protobuf.Timestamp") {
    const seconds = BigInt(timeSeconds[Math.floor(r() * timeSeconds.length)]!);
    const nanos = timeNanos[Math.floor(r() * timeNanos.length)]!;
    // Durations keep nanos' sign equal to seconds' (normalized values)
    return create(desc, { seconds, nanos: desc.typeName === "google.protobuf.Duration" && seconds < 0n ? -nanos : nanos } as never);
  }
  const init: Record<string, unknown> = {};
  for (const f of desc.fields) {
    if (r() < 0.15) continue; // leave unset
    init[f.localName] = randomValue(r, f, depth);
  }
  return create(desc, init as never);
}

function randomValue(r: () => number, f: DescField, depth: number): unknown {
  const len = () => Math.floor(r() * 5);
  switch (f.fieldKind) {
    case "scalar":
      return randomScalar(r, f.scalar);
    case "enum":
      return 0;
    case "message":
      return depth < 2 ? randomMessage(r, f.message, depth + 1) : undefined;
    case "list": {
      const items: unknown[] = [];
      for (let i = len(); i > 0; i--) items.push(f.listKind === "message" ? randomMessage(r, f.message, depth + 1) : f.listKind === "scalar" ? randomScalar(r, f.scalar) : 0);
      if (items.length > 0 && r() < 0.3) items.push(items[0]); // duplicates for unique
      return items;
    }
    case "map": {
      const m: Record<string, unknown> = {};
      for (let i = len(); i > 0; i--) {
        const k = String(randomScalar(r, f.mapKey));
        m[k] = f.mapKind === "message" ? randomMessage(r, f.message, depth + 1) : f.mapKind === "scalar" ? randomScalar(r, f.scalar) : 0;
      }
      return m;
    }
  }
}

type Result = { kind: string; violations?: { field: string; rule: string; ruleId: string; message: string; forKey: boolean }[] };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let pb: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let gen: any;

beforeAll(async () => {
  const out = generateValidated({ "diff/v1/diff.proto": proto });
  pb = await import(`${out}/diff/v1/diff_pb.ts`);
  gen = await import(`${out}/diff/v1/diff_validate.ts`);
});

const protovalidate = { all: createValidator(), fast: createValidator({ failFast: true }) };

function reference(desc: DescMessage, m: Message, failFast: boolean): Result {
  const r = (failFast ? protovalidate.fast : protovalidate.all).validate(desc, m as never);
  if (r.kind !== "invalid") return { kind: r.kind };
  return { kind: "invalid", violations: r.violations.map((v) => ({ field: pathToString(v.field), rule: pathToString(v.rule), ruleId: v.ruleId, message: v.message, forKey: v.forKey })) };
}

function generated(name: string, m: Message, failFast: boolean): Result {
  const r = gen[`validate${name}`](m, { failFast });
  if (r.kind !== "invalid") return { kind: r.kind };
  return { kind: "invalid", violations: r.violations.map((v: Result["violations"] & object extends (infer T)[] ? T : never) => ({ ...v })) };
}

describe("generated validators agree with @bufbuild/protovalidate", () => {
  for (const name of ["Formats", "Lengths", "Numbers", "Collections", "Times", "Cel"]) {
    it(`${name}: 1500 seeded random inputs, all violations and fail-fast`, () => {
      const desc: DescMessage = pb[`${name}Schema`];
      const r = prng(0x5eed + name.length * 7919);
      let invalid = 0;
      let valid = 0;
      for (let i = 0; i < 1500; i++) {
        const m = randomMessage(r, desc);
        for (const failFast of [false, true]) {
          const want = reference(desc, m, failFast);
          const got = generated(name, m, failFast);
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            expect({ input: m, failFast, got }).toEqual({ input: m, failFast, got: want });
          }
          if (!failFast) want.kind === "invalid" ? invalid++ : valid++;
        }
      }
      // the generator must exercise both verdicts
      expect(invalid).toBeGreaterThan(100);
      expect(valid + invalid).toBe(1500);
    });
  }

  it("the tricky strings, each on every format field alone", () => {
    const desc: DescMessage = pb.FormatsSchema;
    for (const f of desc.fields) {
      for (const s of trickyStrings) {
        const m = create(desc, { [f.localName]: s } as never);
        expect(JSON.stringify(generated("Formats", m, false)), `${f.name} = ${JSON.stringify(s)}`).toBe(JSON.stringify(reference(desc, m, false)));
      }
    }
  });
});
