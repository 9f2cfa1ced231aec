import { ScalarType, type DescField, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import type { GeneratedFile, Printable, Schema } from "@bufbuild/protoplugin";
import type { GrpckitOptions } from "../options/parse-options.js";
import type { ValidationIndex } from "../validate/validation-index.js";
import type { CelRule, CompiledPlan, FieldPlan, ValidationPlan } from "../validate/validation-plan.js";
import type { CompiledCel } from "../validate/compile-cel.js";
import { emitItem, emitRuleChecks, nestViolations, pathExpr, reportViolation, violationName, type CheckPrinter, type FieldPath } from "./emit-validate-checks.js";
import { createFileImports } from "./file-imports.js";
import { nonNull, printFunction, pure, targetExtension, type Target } from "./emit-target.js";

/** The messages of a file that get a validator (those with something to check), in declaration order. */
export function validatedMessages(file: DescFile, index: ValidationIndex): DescMessage[] {
  const out: DescMessage[] = [];
  const visit = (ms: readonly DescMessage[]) => {
    for (const m of ms) {
      if (index.needsCheck(m)) out.push(m);
      visit(m.nestedMessages);
    }
  };
  visit(file.messages);
  return out.filter((m) => !m.file.name.startsWith("google/protobuf/"));
}

/** Name of the generated `validate<Msg>` / `check<Msg>` function, from protoc-gen-es's shape name. */
export function validatorName(kind: "validate" | "check", shapeName: string): string {
  return `${kind}${shapeName}`;
}

/**
 * Emit `<file>_validate.ts` (`.js`, `.d.ts`): a `validate<Msg>()` and a
 * `check<Msg>()` per validated message. The module-level constants the
 * checks use are printed for ts and js, marked `/*@__PURE__*\/` when calls.
 */
export function emitValidators(
  schema: Schema<GrpckitOptions>,
  t: Target,
  file: DescFile,
  index: ValidationIndex,
  generated: ReadonlySet<string>,
): void {
  const messages = validatedMessages(file, index);
  if (messages.length === 0) return;
  const name = `${file.name}_validate${targetExtension(t)}`;
  const f = schema.generateFile(name);
  f.preamble(file);
  const im = createFileImports(f, schema.options, name);
  const consts: Printable[][] = [];
  const violations = new Map<string, string>();
  const names = new Set<string>();
  const itemPaths = new Map<string, string>();
  let scope = "";
  let hoisted = 0;
  const p: CheckPrinter & { scope(name: string): void } = {
    f,
    t,
    im,
    hoist(init) {
      const name = `c${hoisted++}`;
      consts.push(["const ", im.local(name), " = ", init, ";"]);
      return name;
    },
    nested(desc) {
      if (!index.needsCheck(desc)) return undefined;
      const name = validatorName("check", im.shape(desc).name);
      if (desc.file === file) return name;
      if (generated.has(desc.file.name)) return f.import(name, `./${desc.file.name}_validate.js`);
      return p.hoist([pure, im.validate("createDelegate"), "(", f.import("createValidator", "@bufbuild/protovalidate"), ", ", im.schema(desc), ", [])"]);
    },
    violation(field, rule, ruleId, message, forKey) {
      const key = JSON.stringify([scope, field, rule, ruleId, message, forKey]);
      let name = violations.get(key);
      if (name === undefined) {
        const base = violationName(scope, field, ruleId);
        name = base;
        for (let i = 2; names.has(name); i++) name = `${base}${i}`;
        names.add(name);
        violations.set(key, name);
        const args = [field, rule, ruleId, message].map((x) => JSON.stringify(x)).join(", ");
        consts.push(["const ", im.local(name), " = ", pure, im.validate("violation"), "(", args, forKey ? ", true" : "", ");"]);
      }
      return name;
    },
    itemPaths(name) {
      const key = `${scope}.${name}`;
      let c = itemPaths.get(key);
      if (c === undefined) {
        c = p.hoist([pure, im.validate("itemPaths"), "(", JSON.stringify(name), ")"]);
        itemPaths.set(key, c);
      }
      return c;
    },
    scope(name) {
      scope = name;
    },
  };
  for (const m of messages) {
    p.scope(im.shape(m).name);
    emitMessage(p, m, index.plan(m));
  }
  if (t === "dts") return;
  if (consts.length > 0) f.print("// Built once at module load: violations with fixed field paths, patterns, value sets.");
  for (const c of consts) f.print(c);
}

function emitMessage(p: CheckPrinter, desc: DescMessage, plan: ValidationPlan): void {
  const { f, im, t } = p;
  const shape = im.shape(desc);
  const check = validatorName("check", shape.name);
  f.print(f.jsDoc(`Validate a \`${desc.typeName}\` against its buf.validate rules (protovalidate v1.2.2 semantics).\nReturns \`{ kind: "valid" }\`, \`{ kind: "invalid", violations }\` or \`{ kind: "error", error }\` (a rule that cannot be evaluated).\nAll violations are reported unless \`options.failFast\`.`));
  const validateParams = [{ name: "message", type: shape }, { name: "options", type: im.validate("ValidateOptions", true), optional: true }];
  printFunction(f, t, { function: validatorName("validate", shape.name) }, validateParams, im.validate("ValidationResult", true), () =>
    f.print("  return ", im.validate("runValidation"), "(", check, ", message, options);"),
  );
  f.print();
  f.print(f.jsDoc(`Check a \`${desc.typeName}\`, adding violations to \`c\`. @internal Called by generated validators.`));
  const checkParams = [{ name: "m", type: shape }, { name: "c", type: im.validate("ViolationCollector", true) }];
  printFunction(f, t, { function: check }, checkParams, "void", () => emitCheckBody(p, desc, plan));
  f.print();
}

function emitCheckBody(p: CheckPrinter, desc: DescMessage, plan: ValidationPlan): void {
  const { f, im } = p;
  switch (plan.kind) {
    case "broken":
      f.print("  throw new ", im.validate("ValidationRuleError"), "(\"compilation\", ", JSON.stringify(plan.problem), ");");
      break;
    case "delegated": {
      const exts = plan.extensions.map((e) => im.schema(e));
      const d = p.hoist([pure, im.validate("createDelegate"), "(", f.import("createValidator", "@bufbuild/protovalidate"), ", ", im.schema(desc), ", [", exts.flatMap((e, i) => (i ? [", ", e] : [e])), "])"]);
      f.print("  // delegated to @bufbuild/protovalidate: ", plan.reason.replace(/\n/g, " "));
      f.print("  ", d, "(m, c);");
      break;
    }
    case "compiled":
      emitCompiled(p, plan);
      break;
  }
}

function emitCompiled(p: CheckPrinter, plan: CompiledPlan): void {
  const top: FieldPath = { fixed: "" };
  for (const fp of plan.fields) emitField(p, plan, fp);
  for (const rule of plan.messageCel) {
    if (rule.compiled) {
      p.f.print("  if (!(", celTs(p, rule.compiled), ")) { ", reportViolation(p, top, "", rule.id, celMessage(rule), false), " } // CEL: ", rule.expression.replace(/\s+/g, " "));
      continue;
    }
    const check = p.hoist([pure, p.im.validate("createMessageCel"), "(", JSON.stringify(rule.expression), ", ", JSON.stringify(rule.id), ", ", JSON.stringify(rule.message), ", ", p.im.schema(plan.desc), ")"]);
    p.f.print("  { const e = ", check, "(m); if (e !== undefined && c.add(\"\", \"\", ", JSON.stringify(rule.id), ", e, false)) return; }");
  }
  for (const o of plan.messageOneofs) {
    const names = o.fields.map((x) => x.name).join(", ");
    const set = o.fields.map((x) => ["(", isSet(p, plan, x), " ? 1 : 0)"]);
    p.f.print("  { const k = ", set.flatMap((s, i) => (i ? [" + ", s] : [s])), ";");
    p.f.print("    if (k > 1) { ", reportViolation(p, top, "", "message.oneof", `only one of ${names} can be set`, false), " }");
    if (o.required) p.f.print("    if (k === 0) { ", reportViolation(p, top, "", "message.oneof", `one of ${names} must be set`, false), " }");
    p.f.print("  }");
  }
  for (const o of plan.requiredOneofs) {
    p.f.print("  if (m.", o.localName, ".case === undefined) { ", reportViolation(p, { fixed: o.name }, "", "required", "exactly one field is required in oneof", false), " }");
  }
}

function access(f: DescField): string {
  return f.oneof ? `m.${f.oneof.localName}.value` : `m.${f.localName}`;
}

function isSet(p: CheckPrinter, plan: CompiledPlan, f: DescField): Printable {
  if (f.oneof) return `m.${f.oneof.localName}.case === ${JSON.stringify(f.localName)}`;
  switch (f.fieldKind) {
    case "list":
      return `m.${f.localName}.length > 0`;
    case "map":
      return [p.im.global("Object"), `.keys(m.${f.localName}).length > 0`];
    case "message":
      return `m.${f.localName} !== undefined`;
    default:
      if (f.presence !== 2) return [p.im.protobuf("isFieldSet"), "(m, ", p.im.schema(plan.desc), ".field.", f.localName, ")"];
      if (f.fieldKind === "enum") return `m.${f.localName} !== 0`;
      switch (f.scalar) {
        case ScalarType.STRING:
          return `m.${f.localName} !== ""`;
        case ScalarType.BYTES:
          return `m.${f.localName}.length > 0`;
        case ScalarType.BOOL:
          return `m.${f.localName}`;
        case ScalarType.INT64: case ScalarType.UINT64: case ScalarType.SINT64: case ScalarType.FIXED64: case ScalarType.SFIXED64:
          return `m.${f.localName} !== 0n`;
        default:
          return `m.${f.localName} !== 0`;
      }
  }
}

function emitField(p: CheckPrinter, plan: CompiledPlan, fp: FieldPlan): void {
  const { f } = p;
  const field = fp.field;
  const path: FieldPath = { fixed: field.name };
  if (fp.value.kind === "message" && p.nested(fp.value.message) === undefined && !fp.required) return;
  const guarded = fp.required || fp.when === "if-set" || field.oneof !== undefined;
  if (fp.required) {
    f.print("  if (!(", isSet(p, plan, field), ")) { ", reportViolation(p, path, "required", "required", "value is required", false), " }");
    f.print("  else {");
  } else if (guarded) {
    f.print("  if (", isSet(p, plan, field), ") {");
  } else {
    f.print("  {");
  }
  f.print("    const v = ", access(field), ";");
  emitFieldCel(p, fp, path);
  emitValue(p, fp, path, "    ");
  f.print("  }");
}

/** Field-level CEL rules, each compiled once at module load and evaluated with @bufbuild/cel. */
function emitFieldCel(p: CheckPrinter, fp: FieldPlan, path: FieldPath): void {
  if (fp.cel.length === 0) return;
  const scalar = fp.field.fieldKind === "enum" ? "INT32" : ScalarType[fp.field.scalar!];
  for (const rule of fp.cel) {
    if (rule.compiled) {
      p.f.print("    if (!(", celTs(p, rule.compiled), ")) { ", reportViolation(p, path, rule.rule, rule.id, celMessage(rule), false), " } // CEL: ", rule.expression.replace(/\s+/g, " "));
      continue;
    }
    const check = p.hoist([pure, p.im.validate("createFieldCel"), "(", JSON.stringify(rule.expression), ", ", JSON.stringify(rule.id), ", ", JSON.stringify(rule.message), ", ", p.im.protobuf("ScalarType"), ".", scalar, ")"]);
    p.f.print("    { const e = ", check, "(v); if (e !== undefined && c.add(", pathExpr(p, path), ", ", JSON.stringify(rule.rule), ", ", JSON.stringify(rule.id), ", e, false)) return; }");
  }
}

/** protovalidate's message of a failed boolean CEL rule: its `message`, else `"<expression>" returned false`. */
function celMessage(rule: CelRule): string {
  return rule.message !== "" ? rule.message : `"${rule.expression}" returned false`;
}

function celTs(p: CheckPrinter, ts: CompiledCel): Printable {
  return ts.map((x) => (typeof x === "string" ? x : p.im.validate(x.runtime)));
}

function emitValue(p: CheckPrinter, fp: FieldPlan, path: FieldPath & { fixed: string }, ind: string): void {
  const { f } = p;
  const v = fp.value;
  switch (v.kind) {
    case "scalar":
    case "wrapper":
      emitRuleChecks(p, v.checks, path, ind);
      return;
    case "message": {
      const check = p.nested(v.message);
      if (check === undefined) return;
      f.print(ind, "const n = c.list.length; ", check, "(v, c); ", nestViolations(p, path));
      return;
    }
    case "list":
      emitRuleChecks(p, v.checks, path, ind);
      if (v.items === undefined) return;
      f.print(ind, "const l = v;");
      f.print(ind, "for (let i = 0; i < l.length; i++) {");
      f.print(ind, "  const v = l[i]", nonNull(p.t), ";");
      emitItem(p, v.items, { items: path.fixed }, ind + "  ");
      f.print(ind, "}");
      return;
    case "map": {
      emitRuleChecks(p, v.checks, path, ind);
      if (v.keys === undefined && v.values === undefined) return;
      const field = fp.field as DescField & { fieldKind: "map" };
      const name = JSON.stringify(path.fixed);
      const sub: FieldPath = { expr: field.mapKey === ScalarType.STRING ? [name, " + ", p.im.validate("keySubscript"), "(k)"] : [JSON.stringify(`${path.fixed}[`).slice(0, -1), "\" + k + \"]\""] };
      f.print(ind, "const o = v;");
      f.print(ind, "for (const k in o) {");
      if (v.keys) {
        f.print(ind, "  {");
        f.print(ind, "    const v = ", keyValue(p, field), ";");
        emitItem(p, v.keys, sub, ind + "    ");
        f.print(ind, "  }");
      }
      if (v.values) {
        f.print(ind, "  {");
        f.print(ind, "    const v = o[k]", nonNull(p.t), ";");
        emitItem(p, v.values, sub, ind + "    ");
        f.print(ind, "  }");
      }
      f.print(ind, "}");
      return;
    }
  }
}

function keyValue(p: CheckPrinter, field: DescField & { fieldKind: "map" }): Printable {
  switch (field.mapKey) {
    case ScalarType.STRING:
      return "k";
    case ScalarType.BOOL:
      return `k === "true"`;
    case ScalarType.INT64: case ScalarType.UINT64: case ScalarType.SINT64: case ScalarType.FIXED64: case ScalarType.SFIXED64:
      return [p.im.global("BigInt"), "(k)"];
    default:
      return [p.im.global("Number"), "(k)"];
  }
}
