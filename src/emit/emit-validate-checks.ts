import type { DescField } from "@bufbuild/protobuf";
import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { ItemPlan, Literal, RuleCheck, RuleTest } from "../validate/validation-plan.js";
import type { FileImports } from "./file-imports.js";
import { pure, type Target } from "./emit-target.js";

/** Printing context of one `_validate.ts` file: imports, hoisted constants, nested-check resolution. */
export interface CheckPrinter {
  readonly f: GeneratedFile;
  /** The target printed (bodies are printed for ts and js only). */
  readonly t: Target;
  readonly im: FileImports;
  /** A module-level constant holding `init` (printed before the functions), returns its name. */
  hoist(init: Printable): string;
  /** The check function of a nested message type, or undefined when it has nothing to check. */
  nested(desc: DescField["message"] & object): Printable | undefined;
  /**
   * A module-level frozen `Violation` with a fixed field path, of the message
   * being printed (one per distinct violation), returns its name.
   */
  violation(field: string, rule: string, ruleId: string, message: string, forKey: boolean): string;
  /** A module-level `ItemPaths` of the repeated field `name` of the message being printed (one per field), returns its name. */
  itemPaths(name: string): string;
}

/**
 * A violation's field path: fixed at generation time (`display_name`), item
 * `i` of the repeated field `items` (`tags[3]`, from a cached `ItemPaths`), or
 * a TS expression evaluated at run time (map entry).
 */
export type FieldPath = { readonly fixed: string } | { readonly items: string } | { readonly expr: Printable };

/** The path as a TS expression. */
export function pathExpr(p: CheckPrinter, path: FieldPath): Printable {
  if ("fixed" in path) return JSON.stringify(path.fixed);
  if ("items" in path) return [p.itemPaths(path.items), ".path(i)"];
  return path.expr;
}

/**
 * The statement prefixing the paths of the violations a nested message check
 * recorded since `n` with `path` (see `ViolationCollector.nest`), returning
 * when checking should stop.
 */
export function nestViolations(p: CheckPrinter, path: FieldPath): Printable {
  const args: Printable =
    "fixed" in path
      ? [JSON.stringify(path.fixed), ", ", JSON.stringify(`${path.fixed}.`)]
      : "items" in path
        ? [p.itemPaths(path.items), ".path(i), ", p.itemPaths(path.items), ".prefix(i)"]
        : path.expr;
  return ["if (c.list.length !== n && c.nest(n, ", args, ")) return;"];
}

/**
 * The statement recording a violation and returning when checking should stop:
 * `if (c.push(<constant>)) return;` for a fixed path (nothing is allocated),
 * `if (c.add(<path>, ...)) return;` when the path is built at run time.
 */
export function reportViolation(p: CheckPrinter, path: FieldPath, rule: string, ruleId: string, message: string, forKey: boolean): Printable {
  if ("fixed" in path) return ["if (c.push(", p.violation(path.fixed, rule, ruleId, message, forKey), ")) return;"];
  return ["if (c.add(", pathExpr(p, path), ", ", JSON.stringify(rule), ", ", JSON.stringify(ruleId), ", ", JSON.stringify(message), ", ", String(forKey), ")) return;"];
}

/** Name of a violation constant: `<Message>_<field>_<rule>`, e.g. `CreateUserRequest_displayName_minLen`. */
export function violationName(scope: string, field: string, ruleId: string): string {
  const ident = (s: string) =>
    s
      .split(/[^A-Za-z0-9]+/)
      .filter((w) => w !== "")
      .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
      .join("");
  const rule = ident(ruleId.slice(ruleId.lastIndexOf(".") + 1)) || "rule";
  return [scope, ident(field), rule].filter((x) => x !== "").join("_");
}

/** Print the checks of one value `v`. */
export function emitRuleChecks(p: CheckPrinter, checks: readonly RuleCheck[], path: FieldPath, indent: string): void {
  let elseNext = false;
  for (const c of checks) {
    const add = reportViolation(p, path, c.rule, c.ruleId, c.message, c.forKey);
    p.f.print(indent, elseNext ? "else if (" : "if (", testExpr(p, c.test), ") { ", add, " }");
    elseNext = c.test.t === "empty";
  }
}

/**
 * A string length rule (`count op n`), counting code points (CEL `size()`) or
 * UTF-8 bytes, decided from the UTF-16 length L when it can be: code points
 * lie in [L/2, L] and UTF-8 bytes in [L, 3L], so the string is scanned only
 * when L is near the bound. Same verdict as `count op n`.
 */
function lengthTest(p: CheckPrinter, m: "codepoints" | "utf8", op: string, n: number): Printable | undefined {
  const count: Printable = [p.im.validate(m === "codepoints" ? "codePointLength" : "utf8Length"), "(v)"];
  const cp = m === "codepoints";
  switch (op) {
    case "<": // possible only when the least count for L is below n
      return ["v.length < ", String(cp ? 2 * n : n), " && ", count, " < ", String(n)];
    case ">": // possible only when the greatest count for L is above n
      return ["v.length > ", String(cp ? n : Math.floor(n / 3)), " && ", count, " > ", String(n)];
    case "!==": // certain when every count for L is below n or every count is above n
      return ["v.length < ", String(cp ? n : Math.ceil(n / 3)), " || v.length > ", String(cp ? 2 * n : n), " || ", count, " !== ", String(n)];
  }
  return undefined;
}

function testExpr(p: CheckPrinter, t: RuleTest): Printable {
  switch (t.t) {
    case "empty":
      return `v === ""`;
    case "finite":
      return ["!", p.im.global("Number"), ".isFinite(v)"];
    case "cmp":
      if ((t.measure === "codepoints" || t.measure === "utf8") && typeof t.value === "number" && Number.isSafeInteger(t.value)) {
        const guarded = lengthTest(p, t.measure, t.op, t.value);
        if (guarded !== undefined) return guarded;
      }
      return [measure(p, t.measure), " ", t.op, " ", literal(p, t.value)];
    case "range": {
      const parts: Printable[] = [];
      if (t.lo) parts.push(["v ", t.lo.op, " ", literal(p, t.lo.value)]);
      if (t.hi) parts.push(["v ", t.hi.op, " ", literal(p, t.hi.value)]);
      return ["!(", join(parts, t.or ? " || " : " && "), ")"];
    }
    case "in": {
      const has = inExpr(p, t.values, t.enumNumber === true && p.t === "ts" ? "(v as number)" : "v");
      return t.negate ? has : ["!", has];
    }
    case "timeCmp":
      return [p.im.validate("compareTime"), "(v, ", timeLiteral(t.value), ") ", t.op, " 0"];
    case "timeRange": {
      const parts: Printable[] = [];
      if (t.lo) parts.push([p.im.validate("compareTime"), "(v, ", timeLiteral(t.lo.value), ") ", t.lo.op, " 0"]);
      if (t.hi) parts.push([p.im.validate("compareTime"), "(v, ", timeLiteral(t.hi.value), ") ", t.hi.op, " 0"]);
      return ["!(", join(parts, t.or ? " || " : " && "), ")"];
    }
    case "timeIn": {
      const list = p.hoist(["[", join(t.values.map(timeLiteral), ", "), "]"]);
      const has = [p.im.validate("isTimeIn"), "(v, ", list, ")"];
      return t.negate ? has : ["!", has];
    }
    case "now":
      return [p.im.validate("compareTimeToNow"), "(v) ", t.violatedWhen, " 0"];
    case "within":
      return ["!", p.im.validate("isWithinOfNow"), "(v, ", timeLiteral(t.value), ")"];
    case "pattern": {
      const re = p.hoist([pure, p.im.validate("compilePattern"), "(", JSON.stringify(t.source), ")"]);
      return ["!", re, ".test(v)"];
    }
    case "helper": {
      const args = t.args.map((a) => [", ", literal(p, a)]);
      const call: Printable =
        t.fn === "startsWith" || t.fn === "endsWith" || t.fn === "includes"
          ? ["v.", t.fn, "(", literal(p, t.args[0]!), ")"]
          : [p.im.validate(t.fn), "(v", args, ")"];
      return t.violatedWhen ? call : ["!", call];
    }
  }
}

function timeLiteral(v: { seconds: bigint; nanos: number }): string {
  return `{ seconds: ${v.seconds}n, nanos: ${v.nanos} }`;
}

function measure(p: CheckPrinter, m: RuleTest & { t: "cmp" } extends { measure: infer M } ? M : never): Printable {
  switch (m) {
    case "value":
      return "v";
    case "enumNumber":
      return p.t === "ts" ? "(v as number)" : "v";
    case "codepoints":
      return [p.im.validate("codePointLength"), "(v)"];
    case "utf8":
      return [p.im.validate("utf8Length"), "(v)"];
    case "length":
      return "v.length";
    case "pairs":
      return [p.im.validate("mapSize"), "(v)"];
  }
}

function inExpr(p: CheckPrinter, values: readonly Literal[], v = "v"): Printable {
  if (values.length <= 6) return ["(", join(values.map((x) => [v, " === ", literal(p, x)]), " || "), ")"];
  const set = p.hoist([pure, "new ", p.im.global("Set"), "([", join(values.map((x) => literal(p, x)), ", "), "])"]);
  return [set, ".has(v)"];
}

/** A TS literal for a rule value; bytes are hoisted to module constants. */
export function literal(p: CheckPrinter, v: Literal): Printable {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return numberLiteral(p, v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (v instanceof Uint8Array) return p.hoist([pure, "new ", p.im.global("Uint8Array"), `([${Array.from(v).join(", ")}])`]);
  return p.hoist(["[", join(v.map((b) => literal(p, b)), ", "), "]"]);
}

/** A number literal; NaN and the infinities as `Number` constants. */
function numberLiteral(p: CheckPrinter, v: number): Printable {
  if (Object.is(v, -0)) return "-0";
  if (Number.isNaN(v)) return [p.im.global("Number"), ".NaN"];
  if (v === Infinity) return [p.im.global("Number"), ".POSITIVE_INFINITY"];
  if (v === -Infinity) return [p.im.global("Number"), ".NEGATIVE_INFINITY"];
  return String(v);
}

function join(parts: readonly Printable[], sep: string): Printable {
  return parts.flatMap((x, i) => (i === 0 ? [x] : [sep, x]));
}

/** Print the checks of one list item / map key / map value bound to `v`. */
export function emitItem(p: CheckPrinter, item: ItemPlan, path: FieldPath, indent: string): void {
  if (item.message !== undefined) {
    const check = p.nested(item.message);
    if (check === undefined) return;
    p.f.print(indent, "{ const n = c.list.length; ", check, "(v, c); ", nestViolations(p, path), " }");
    return;
  }
  if (item.skipZero !== undefined) {
    const zero = item.skipZero instanceof Uint8Array ? "v.length > 0" : ["v !== ", literal(p, item.skipZero)];
    p.f.print(indent, "if (", zero, ") {");
    emitRuleChecks(p, item.checks, path, indent + "  ");
    p.f.print(indent, "}");
    return;
  }
  emitRuleChecks(p, item.checks, path, indent);
}
