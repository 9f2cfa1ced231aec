import { isFieldSet, type DescEnum, type Message } from "@bufbuild/protobuf";
import { KnownRegex, file_buf_validate_validate, type FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Literal, RuleCheck, RuleTest } from "./validation-plan.js";

/**
 * Compile the standard rules of a scalar or enum value (numeric, bool,
 * string, bytes, enum) to RuleChecks, in protovalidate's evaluation order and
 * with its messages. Returns a string (the reason) for rules the plugin does
 * not compile, so that the caller delegates the message.
 */
export function planScalarRules(type: FieldRules["type"], prefix: string, forKey: boolean, enumDesc?: DescEnum): RuleCheck[] | string {
  if (type.case === undefined) return [];
  const rules = type.value as Message & Record<string, unknown>;
  if (rules.$unknown !== undefined && rules.$unknown.length > 0) return "predefined rule (extension)";
  const base = `${prefix}${protoName(type.case)}`;
  const ctx: Ctx = { base, id: protoName(type.case), forKey, out: [] };
  switch (type.case) {
    case "string":
      return planString(type.value, ctx);
    case "bytes":
      return planBytes(type.value, ctx);
    case "bool":
      if (isFieldSet(type.value, fieldOf(type.value, "const"))) add(ctx, "const", `must equal ${type.value.const}`, { t: "cmp", measure: "value", op: "!==", value: type.value.const });
      return ctx.out;
    case "enum": {
      const r = type.value;
      // A number the enum does not declare is compared as a number (TypeScript rejects `E === 7` when 7 is no member of E).
      const undeclared = (values: readonly number[]) => enumDesc !== undefined && values.some((n) => !enumDesc.values.some((v) => v.number === n));
      if (isFieldSet(r, fieldOf(r, "const"))) add(ctx, "const", `must equal ${r.const}`, { t: "cmp", measure: undeclared([r.const]) ? "enumNumber" : "value", op: "!==", value: r.const });
      if (r.in.length > 0) add(ctx, "in", `must be in list ${list(r.in)}`, { t: "in", values: r.in, negate: false, enumNumber: undeclared(r.in) });
      if (r.notIn.length > 0) add(ctx, "not_in", `must not be in list ${list(r.notIn)}`, { t: "in", values: r.notIn, negate: true, enumNumber: undeclared(r.notIn) });
      if (r.definedOnly && enumDesc) {
        const values = [...new Set(enumDesc.values.map((v) => v.number))].sort((a, b) => a - b);
        ctx.out.unshift({ rule: `${base}.defined_only`, ruleId: "enum.defined_only", message: "value must be one of the defined enum values", forKey, test: { t: "in", values, negate: false } });
      }
      return ctx.out;
    }
    case "any":
    case "duration":
    case "timestamp":
    case "fieldMask":
    case "repeated":
    case "map":
      return `${type.case} rules`;
    default:
      return planNumeric(type.value as unknown as NumericRules, ctx, type.case === "float" || type.case === "double");
  }
}

interface Ctx {
  readonly base: string;
  readonly id: string;
  readonly forKey: boolean;
  readonly out: RuleCheck[];
}

interface NumericRules extends Message {
  const?: number | bigint;
  in: (number | bigint)[];
  notIn: (number | bigint)[];
  greaterThan: { case: "gt" | "gte" | undefined; value?: number | bigint };
  lessThan: { case: "lt" | "lte" | undefined; value?: number | bigint };
  finite?: boolean;
}

function add(ctx: Ctx, name: string, message: string, test: RuleTest, ruleId = `${ctx.id}.${name}`): void {
  ctx.out.push({ rule: `${ctx.base}.${name}`, ruleId, message, forKey: ctx.forKey, test });
}

function fieldOf(rules: Message, localName: string) {
  return schemaFields(rules)[localName]!;
}

/** The `field` record of a buf.validate rules message's descriptor. */
function schemaFields(rules: Message) {
  const desc = file_buf_validate_validate.messages.find((m) => m.typeName === rules.$typeName)!;
  return desc.field;
}

function fmtNum(v: number | bigint, float: boolean): string {
  if (!float || typeof v === "bigint") return v.toString();
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v.toString();
}

function list(values: readonly unknown[], fmt: (v: never) => string = String): string {
  return `[${values.map((v) => fmt(v as never)).join(", ")}]`;
}

function planNumeric(r: NumericRules, ctx: Ctx, float: boolean): RuleCheck[] | string {
  const f = (v: number | bigint) => fmtNum(v, float);
  if (isFieldSet(r, fieldOf(r, "const"))) add(ctx, "const", `must equal ${f(r.const!)}`, { t: "cmp", measure: "value", op: "!==", value: r.const! });
  const lo = r.greaterThan.case === undefined ? undefined : { kind: r.greaterThan.case, v: r.greaterThan.value! };
  const hi = r.lessThan.case === undefined ? undefined : { kind: r.lessThan.case, v: r.lessThan.value! };
  if ((lo && Number.isNaN(lo.v)) || (hi && Number.isNaN(hi.v))) return "NaN bound";
  const loMsg = lo && (lo.kind === "gt" ? `greater than ${f(lo.v)}` : `greater than or equal to ${f(lo.v)}`);
  const hiMsg = hi && (hi.kind === "lt" ? `less than ${f(hi.v)}` : `less than or equal to ${f(hi.v)}`);
  const loB = lo && ({ op: lo.kind === "gt" ? ">" : ">=", value: lo.v } as const);
  const hiB = hi && ({ op: hi.kind === "lt" ? "<" : "<=", value: hi.v } as const);
  if (lo && hi) {
    const normal = hi.v >= lo.v;
    const id = `${ctx.id}.${lo.kind}_${hi.kind}${normal ? "" : "_exclusive"}`;
    add(ctx, lo.kind, `must be ${loMsg} ${normal ? "and" : "or"} ${hiMsg}`, { t: "range", lo: loB, hi: hiB, or: !normal, nan: float }, id);
  } else if (lo) add(ctx, lo.kind, `must be ${loMsg}`, { t: "range", lo: loB, or: false, nan: float });
  else if (hi) add(ctx, hi.kind, `must be ${hiMsg}`, { t: "range", hi: hiB, or: false, nan: float });
  if (r.in.length > 0) add(ctx, "in", `must be in list ${list(r.in, f)}`, { t: "in", values: r.in, negate: false });
  if (r.notIn.length > 0) add(ctx, "not_in", `must not be in list ${list(r.notIn, f)}`, { t: "in", values: r.notIn, negate: true });
  if (float && r.finite === true) add(ctx, "finite", "must be finite", { t: "finite" });
  return ctx.out;
}

type StringRules = Extract<FieldRules["type"], { case: "string" }>["value"];
type BytesRules = Extract<FieldRules["type"], { case: "bytes" }>["value"];

const lenRules = [
  ["len", "codepoints", "!==", (n: bigint) => `must be ${n} characters`],
  ["minLen", "codepoints", "<", (n: bigint) => `must be at least ${n} characters`],
  ["maxLen", "codepoints", ">", (n: bigint) => `must be at most ${n} characters`],
  ["lenBytes", "utf8", "!==", (n: bigint) => `must be ${n} bytes`],
  ["minBytes", "utf8", "<", (n: bigint) => `must be at least ${n} bytes`],
  ["maxBytes", "utf8", ">", (n: bigint) => `must be at most ${n} bytes`],
] as const;

/** Formats compiled to runtime helpers: [helper, helper args, message, empty message or undefined]. */
const formats: Record<string, readonly [string, readonly Literal[], string, string | undefined]> = {
  uuid: ["isUuid", [], "must be a valid UUID", "value is empty, which is not a valid UUID"],
  tuuid: ["isTrimmedUuid", [], "must be a valid trimmed UUID", "value is empty, which is not a valid trimmed UUID"],
  ulid: ["isUlid", [], "must be a valid ULID", "value is empty, which is not a valid ULID"],
  protobufFqn: ["isProtobufFqn", [], "must be a valid fully-qualified Protobuf name", "value is empty, which is not a valid fully-qualified Protobuf name"],
  protobufDotFqn: ["isProtobufDotFqn", [], "must be a valid fully-qualified Protobuf name with a leading dot", "value is empty, which is not a valid fully-qualified Protobuf name with a leading dot"],
  email: ["isEmail", [], "must be a valid email address", "value is empty, which is not a valid email address"],
  hostname: ["isHostname", [], "must be a valid hostname", "value is empty, which is not a valid hostname"],
  ip: ["isIp", [0], "must be a valid IP address", "value is empty, which is not a valid IP address"],
  ipv4: ["isIp", [4], "must be a valid IPv4 address", "value is empty, which is not a valid IPv4 address"],
  ipv6: ["isIp", [6], "must be a valid IPv6 address", "value is empty, which is not a valid IPv6 address"],
  address: ["isAddress", [], "must be a valid hostname, or ip address", "value is empty, which is not a valid hostname, or ip address"],
  ipWithPrefixlen: ["isIpPrefix", [0, false], "must be a valid IP prefix", "value is empty, which is not a valid IP prefix"],
  ipv4WithPrefixlen: ["isIpPrefix", [4, false], "must be a valid IPv4 address with prefix length", "value is empty, which is not a valid IPv4 address with prefix length"],
  ipv6WithPrefixlen: ["isIpPrefix", [6, false], "must be a valid IPv6 address with prefix length", "value is empty, which is not a valid IPv6 address with prefix length"],
  ipPrefix: ["isIpPrefix", [0, true], "must be a valid IP prefix", "value is empty, which is not a valid IP prefix"],
  ipv4Prefix: ["isIpPrefix", [4, true], "must be a valid IPv4 prefix", "value is empty, which is not a valid IPv4 prefix"],
  ipv6Prefix: ["isIpPrefix", [6, true], "must be a valid IPv6 prefix", "value is empty, which is not a valid IPv6 prefix"],
  hostAndPort: ["isHostAndPort", [true], "must be a valid host (hostname or IP address) and port pair", "value is empty, which is not a valid host and port pair"],
};

function planString(r: StringRules, ctx: Ctx): RuleCheck[] | string {
  const F = schemaFields(r);
  if (isFieldSet(r, F["const"]!)) add(ctx, "const", `must equal \`${r.const}\``, { t: "cmp", measure: "value", op: "!==", value: r.const });
  for (const [name, measure, op, msg] of lenRules) {
    const field = F[name]!;
    if (isFieldSet(r, field)) add(ctx, field.name, msg(r[name]), { t: "cmp", measure, op, value: Number(r[name]) });
  }
  if (isFieldSet(r, F["pattern"]!)) add(ctx, "pattern", `does not match regex pattern \`${r.pattern}\``, { t: "pattern", source: r.pattern, bytes: false });
  if (isFieldSet(r, F["prefix"]!)) add(ctx, "prefix", `does not have prefix \`${r.prefix}\``, { t: "helper", fn: "startsWith", args: [r.prefix], violatedWhen: false });
  if (isFieldSet(r, F["suffix"]!)) add(ctx, "suffix", `does not have suffix \`${r.suffix}\``, { t: "helper", fn: "endsWith", args: [r.suffix], violatedWhen: false });
  if (isFieldSet(r, F["contains"]!)) add(ctx, "contains", `does not contain substring \`${r.contains}\``, { t: "helper", fn: "includes", args: [r.contains], violatedWhen: false });
  if (isFieldSet(r, F["notContains"]!)) add(ctx, "not_contains", `contains substring \`${r.notContains}\``, { t: "helper", fn: "includes", args: [r.notContains], violatedWhen: true });
  if (r.in.length > 0) add(ctx, "in", `must be in list ${list(r.in)}`, { t: "in", values: r.in, negate: false });
  if (r.notIn.length > 0) add(ctx, "not_in", `must not be in list ${list(r.notIn)}`, { t: "in", values: r.notIn, negate: true });
  const wk = r.wellKnown;
  if (wk.case === "wellKnownRegex") {
    const strict = !isFieldSet(r, F["strict"]!) || r.strict;
    if (wk.value === KnownRegex.HTTP_HEADER_NAME) {
      add(ctx, "well_known_regex", "value is empty, which is not a valid HTTP header name", { t: "empty" }, "string.well_known_regex.header_name_empty");
      add(ctx, "well_known_regex", "must be a valid HTTP header name", { t: "helper", fn: "isHeaderName", args: [strict], violatedWhen: false }, "string.well_known_regex.header_name");
    } else if (wk.value === KnownRegex.HTTP_HEADER_VALUE) {
      add(ctx, "well_known_regex", "must be a valid HTTP header value", { t: "helper", fn: "isHeaderValue", args: [strict], violatedWhen: false }, "string.well_known_regex.header_value");
    }
  } else if (wk.case !== undefined && wk.value) {
    const spec = formats[wk.case];
    if (spec === undefined) return `string.${F[wk.case]!.name} format`;
    const name = F[wk.case]!.name;
    if (spec[3] !== undefined) add(ctx, name, spec[3], { t: "empty" }, `string.${name}_empty`);
    add(ctx, name, spec[2], { t: "helper", fn: spec[0], args: spec[1], violatedWhen: false });
  }
  return ctx.out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function planBytes(r: BytesRules, ctx: Ctx): RuleCheck[] | string {
  const F = schemaFields(r);
  if (r.wellKnown.case !== undefined || isFieldSet(r, F["pattern"]!)) return "bytes pattern or format";
  if (isFieldSet(r, F["const"]!)) add(ctx, "const", `must be ${hex(r.const)}`, { t: "helper", fn: "bytesEqual", args: [r.const], violatedWhen: false });
  if (isFieldSet(r, F["len"]!)) add(ctx, "len", `must be ${r.len} bytes`, { t: "cmp", measure: "length", op: "!==", value: Number(r.len) });
  if (isFieldSet(r, F["minLen"]!)) add(ctx, "min_len", `must be at least ${r.minLen} bytes`, { t: "cmp", measure: "length", op: "<", value: Number(r.minLen) });
  if (isFieldSet(r, F["maxLen"]!)) add(ctx, "max_len", `must be at most ${r.maxLen} bytes`, { t: "cmp", measure: "length", op: ">", value: Number(r.maxLen) });
  if (isFieldSet(r, F["prefix"]!)) add(ctx, "prefix", `does not have prefix ${hex(r.prefix)}`, { t: "helper", fn: "bytesHasPrefix", args: [r.prefix], violatedWhen: false });
  if (isFieldSet(r, F["suffix"]!)) add(ctx, "suffix", `does not have suffix ${hex(r.suffix)}`, { t: "helper", fn: "bytesHasSuffix", args: [r.suffix], violatedWhen: false });
  if (isFieldSet(r, F["contains"]!)) add(ctx, "contains", `does not contain ${hex(r.contains)}`, { t: "helper", fn: "bytesContains", args: [r.contains], violatedWhen: false });
  const dec = new TextDecoder("utf-8", { fatal: false });
  const show = (b: Uint8Array) => dec.decode(b);
  if (r.in.length > 0) add(ctx, "in", `must be in list ${list(r.in, show)}`, { t: "helper", fn: "bytesIn", args: [r.in as unknown as Literal], violatedWhen: false });
  if (r.notIn.length > 0) add(ctx, "not_in", `must not be in list ${list(r.notIn, show)}`, { t: "helper", fn: "bytesIn", args: [r.notIn as unknown as Literal], violatedWhen: true });
  return ctx.out;
}

/** `minLen` -> `min_len`; the FieldRules oneof case -> its proto field name. */
export function protoName(localName: string): string {
  return localName === "fieldMask" ? "field_mask" : localName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
