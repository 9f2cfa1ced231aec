import { parse } from "@bufbuild/cel";
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

/**
 * Compile a CEL rule to a TypeScript boolean expression, exactly, for a
 * small subset of CEL whose JavaScript translation cannot differ from CEL's
 * semantics: `this` (a string, bool, 32-bit integer, enum, float or double
 * value, or a message whose plain proto3 scalar fields are read with
 * `this.field`), string / bool / small int / double literals, `==` `!=`
 * and `<` `<=` `>` `>=` on operands of one type (int, uint or double; no
 * mixed-type comparisons), `&&` `||` `!`, `? :`, `size()` of a string (code
 * points), `startsWith` / `endsWith` / `contains` on strings, and string
 * concatenation. None of these can raise a CEL error, so JavaScript's
 * short-circuit `&&` / `||` give CEL's commutative results.
 *
 * Returns undefined for anything else (the rule is then evaluated at run time
 * by @bufbuild/cel).
 */
export function compileCel(expression: string, self: CelSelf): CompiledCel | undefined {
  let expr;
  try {
    expr = parse(expression).expr;
  } catch {
    return undefined;
  }
  const r = compile(expr as Expr, self);
  return r?.type === "bool" ? r.ts : undefined;
}

/** What `this` is: the field value (by scalar type; enums as INT32) or the message. */
export type CelSelf = { readonly kind: "value"; readonly scalar: ScalarType } | { readonly kind: "message"; readonly desc: DescMessage };

/** TypeScript source parts: plain text, or a runtime helper to import. `v` is the field value, `m` the message. */
export type CompiledCel = readonly (string | { readonly runtime: string })[];

/** CEL types of the subset; int, uint and double stay apart (no mixed-type arithmetic or comparison is compiled). */
type Type = "string" | "bool" | "int" | "uint" | "double" | "message";
const isNumber = (t: Type | undefined) => t === "int" || t === "uint" || t === "double";
interface Out {
  readonly type: Type;
  readonly ts: CompiledCel;
}

/** The part of the cel.expr.Expr shape read here. */
interface Expr {
  exprKind:
    | { case: "constExpr"; value: { constantKind: { case: string | undefined; value?: unknown } } }
    | { case: "identExpr"; value: { name: string } }
    | { case: "selectExpr"; value: { operand?: Expr; field: string; testOnly: boolean } }
    | { case: "callExpr"; value: { function: string; target?: Expr; args: Expr[] } }
    | { case: string | undefined; value?: unknown };
}

function scalarType(t: ScalarType): Type | undefined {
  switch (t) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "bool";
    case ScalarType.INT32: case ScalarType.SINT32: case ScalarType.SFIXED32:
      return "int";
    case ScalarType.UINT32: case ScalarType.FIXED32:
      return "uint";
    case ScalarType.FLOAT: case ScalarType.DOUBLE:
      return "double";
    default:
      return undefined; // 64-bit integers and bytes: not in the subset
  }
}

const out = (type: Type, ...ts: (string | { runtime: string } | CompiledCel)[]): Out => ({ type, ts: ts.flat() });

function compile(e: Expr, self: CelSelf): Out | undefined {
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr": {
      if ((k.value as { name: string }).name !== "this") return undefined;
      if (self.kind === "message") return out("message", "m");
      const t = scalarType(self.scalar);
      return t && out(t, "v");
    }
    case "constExpr":
      return constant((k.value as { constantKind: { case: string | undefined; value?: unknown } }).constantKind);
    case "selectExpr": {
      const s = k.value as { operand?: Expr; field: string; testOnly: boolean };
      if (s.testOnly || self.kind !== "message" || s.operand === undefined || compile(s.operand, self)?.type !== "message") return undefined;
      const f: DescField | undefined = self.desc.fields.find((x) => x.name === s.field);
      if (f === undefined || f.fieldKind !== "scalar" || f.oneof !== undefined || f.presence !== 2 /* IMPLICIT */) return undefined;
      const t = scalarType(f.scalar);
      return t && out(t, `m.${f.localName}`);
    }
    case "callExpr":
      return call(k.value as { function: string; target?: Expr; args: Expr[] }, self);
    default:
      return undefined;
  }
}

function constant(c: { case: string | undefined; value?: unknown }): Out | undefined {
  switch (c.case) {
    case "stringValue":
      return out("string", JSON.stringify(c.value));
    case "boolValue":
      return out("bool", String(c.value));
    case "int64Value":
    case "uint64Value": {
      const v = c.value as bigint;
      return v >= -(2n ** 31n) && v < 2n ** 32n ? out(c.case === "int64Value" ? "int" : "uint", `(${v})`) : undefined;
    }
    case "doubleValue": {
      const v = c.value as number;
      return Number.isFinite(v) ? out("double", `(${Object.is(v, -0) ? "-0" : String(v)})`) : undefined;
    }
    default:
      return undefined;
  }
}

const comparisons: Record<string, string> = { "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=" };

function call(c: { function: string; target?: Expr; args: Expr[] }, self: CelSelf): Out | undefined {
  const target = c.target && compile(c.target, self);
  if (c.target && target === undefined) return undefined;
  const args: Out[] = [];
  for (const a of c.args) {
    const x = compile(a, self);
    if (x === undefined) return undefined;
    args.push(x);
  }
  const [a, b, d] = args;
  const fn = c.function;
  if (target === undefined) {
    if ((fn === "_==_" || fn === "_!=_") && a && b && a.type === b.type && a.type !== "message") return out("bool", "(", a.ts, fn === "_==_" ? " === " : " !== ", b.ts, ")");
    if (comparisons[fn] && isNumber(a?.type) && a!.type === b?.type) return out("bool", "(", a.ts, ` ${comparisons[fn]} `, b.ts, ")");
    if ((fn === "_&&_" || fn === "_||_") && a?.type === "bool" && b?.type === "bool") return out("bool", "(", a.ts, fn === "_&&_" ? " && " : " || ", b.ts, ")");
    if (fn === "!_" && a?.type === "bool" && args.length === 1) return out("bool", "!", a.ts);
    if (fn === "_?_:_" && a?.type === "bool" && b && d && b.type === d.type && b.type !== "message") return out(b.type, "(", a.ts, " ? ", b.ts, " : ", d.ts, ")");
    if (fn === "_+_" && a?.type === "string" && b?.type === "string") return out("string", "(", a.ts, " + ", b.ts, ")");
    if (fn === "size" && a?.type === "string" && args.length === 1) return out("int", { runtime: "codePointLength" }, "(", a.ts, ")");
    return undefined;
  }
  if (target.type !== "string") return undefined;
  if (fn === "size" && args.length === 0) return out("int", { runtime: "codePointLength" }, "(", target.ts, ")");
  const method = fn === "startsWith" ? "startsWith" : fn === "endsWith" ? "endsWith" : fn === "contains" ? "includes" : undefined;
  if (method && args.length === 1 && a?.type === "string") return out("bool", target.ts, `.${method}(`, a.ts, ")");
  return undefined;
}
