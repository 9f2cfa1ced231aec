import { ScalarType, getOption, hasOption, isFieldSet, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { scalarZeroValue } from "@bufbuild/protobuf/reflect";
import {
  FieldRulesSchema,
  Ignore,
  field as fieldExt,
  message as messageExt,
  oneof as oneofExt,
  type FieldRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { planScalarRules } from "./plan-scalar.js";
import { compileCel } from "./compile-cel.js";
import { planTimeRules } from "./plan-time.js";
import type { CelRule, CompiledPlan, FieldPlan, ItemPlan, Literal, RuleCheck, ValidationPlan, ValuePlan } from "./validation-plan.js";

/** Thrown inside planning to delegate the message being planned. */
class Delegate {
  constructor(readonly reason: string) {}
}

/**
 * Plan one message's own rules (nested messages are referenced, not
 * inlined, so recursive types are safe). Rules the plugin does not compile
 * yield a DelegatedPlan. Rule errors are detected separately (see
 * check-rules.ts).
 */
export function planMessage(desc: DescMessage): ValidationPlan {
  try {
    return planCompiled(desc);
  } catch (e) {
    if (e instanceof Delegate) return { kind: "delegated", desc, reason: e.reason, extensions: [] };
    throw e;
  }
}

function planCompiled(desc: DescMessage): CompiledPlan {
  const rules = getOption(desc, messageExt);
  const messageCel = [
    ...rules.celExpression.map((e) => ({ expression: e, id: e, message: "", rule: "" })),
    ...rules.cel.map((c) => ({ expression: c.expression, id: c.id, message: c.message, rule: "" })),
  ].map((r) => ({ ...r, compiled: compileCel(r.expression, { kind: "message", desc }) }));
  if (!messageCel.every(isEvaluableCel)) throw new Delegate(`message ${desc.typeName}: CEL rule with an unsupported function`);
  if (rules.$unknown?.length) throw new Delegate(`message ${desc.typeName}: unknown rule`);
  const oneofFields = new Set(rules.oneof.flatMap((o) => o.fields));
  const fields: FieldPlan[] = [];
  for (const field of desc.fields) {
    if (isLongAsString(field) && (messageCel.length > 0 || oneofFields.has(field.name))) throw new Delegate(`field ${field.toString()}: jstype JS_STRING`);
    const plan = planField(field, oneofFields.has(field.name));
    if (plan !== undefined) fields.push(plan);
  }
  const messageOneofs = rules.oneof.map((o) => ({
    fields: o.fields.map((n) => desc.fields.find((f) => f.name === n)!),
    required: o.required,
  }));
  const requiredOneofs = desc.oneofs.filter((o) => getOption(o, oneofExt).required);
  return { kind: "compiled", desc, fields, messageOneofs, requiredOneofs, messageCel };
}

/** protovalidate functions the run-time CEL environment lacks: rules using them delegate the whole message. */
const unsupportedCel = /\b(isUri|isUriRef|unique|getField)\s*\(/;

function isEvaluableCel(rule: CelRule): boolean {
  return !unsupportedCel.test(rule.expression);
}

/** Field-level CEL rules, `cel` then `cel_expression`; only on scalar and enum fields (others delegate the message). */
function planFieldCel(field: DescField, r: FieldRules | undefined): CelRule[] {
  if (r === undefined || (r.cel.length === 0 && r.celExpression.length === 0)) return [];
  if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") throw new Delegate(`field ${field.toString()}: CEL rule on a ${field.fieldKind} field`);
  const out: CelRule[] = [
    ...r.cel.map((c, i) => ({ expression: c.expression, id: c.id, message: c.message, rule: `cel[${i}]` })),
    ...r.celExpression.map((e, i) => ({ expression: e, id: e, message: "", rule: `cel_expression[${i}]` })),
  ].map((x) => ({ ...x, compiled: compileCel(x.expression, { kind: "value", scalar: field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar }) }));
  if (!out.every(isEvaluableCel)) throw new Delegate(`field ${field.toString()}: CEL rule with an unsupported function`);
  return out;
}

function isLongAsString(field: DescField): boolean {
  return field.fieldKind === "scalar" && field.longAsString;
}

function planField(field: DescField, inMessageOneof: boolean): FieldPlan | undefined {
  const r = hasOption(field, fieldExt) ? getOption(field, fieldExt) : undefined;
  if (r?.$unknown?.length) throw new Delegate(`field ${field.toString()}: unknown rule`);
  // The compiled checks read 64-bit integers as bigint; a JS_STRING field with rules is delegated
  // (one without rules, checked by nothing, needs no validator at all).
  if (isLongAsString(field) && r !== undefined) throw new Delegate(`field ${field.toString()}: jstype JS_STRING`);
  let ignore = r?.ignore ?? Ignore.UNSPECIFIED;
  if (r && !isFieldSet(r, FieldRulesSchema.field.ignore) && inMessageOneof) ignore = Ignore.IF_ZERO_VALUE;
  if (r === undefined && inMessageOneof) ignore = Ignore.IF_ZERO_VALUE;
  const required = (r?.required ?? false) && ignore !== Ignore.ALWAYS;
  if (ignore === Ignore.ALWAYS) return required ? { field, required, when: "if-set", cel: [], value: { kind: "scalar", checks: [] } } : undefined;
  const cel = planFieldCel(field, r);
  const value = planValue(field, r);
  const when = whenToCheck(field, ignore);
  if (!required && cel.length === 0 && isEmptyValue(value)) return undefined;
  return { field, required, when, cel, value };
}

function whenToCheck(field: DescField, ignore: Ignore): "always" | "if-set" {
  switch (field.fieldKind) {
    case "message":
      return "if-set";
    case "list":
    case "map":
      return ignore === Ignore.IF_ZERO_VALUE ? "if-set" : "always";
    default:
      // implicit presence: always, unless IF_ZERO_VALUE; explicit presence: only when set
      if (field.presence === 2 /* IMPLICIT */ && ignore !== Ignore.IF_ZERO_VALUE) return "always";
      return "if-set";
  }
}

function isEmptyValue(v: ValuePlan): boolean {
  switch (v.kind) {
    case "scalar":
    case "wrapper":
      return v.checks.length === 0;
    case "message":
      return false; // decided when printing, from the nested plan
    case "list":
      return v.checks.length === 0 && v.items === undefined;
    case "map":
      return v.checks.length === 0 && v.keys === undefined && v.values === undefined;
  }
}

function scalarChecks(type: FieldRules["type"], prefix: string, forKey: boolean, field: DescField, enumDesc?: DescField["enum"]): RuleCheck[] {
  const checks = planScalarRules(type, prefix, forKey, enumDesc);
  if (typeof checks === "string") throw new Delegate(`field ${field.toString()}: ${checks}`);
  return checks;
}

function planValue(field: DescField, r: FieldRules | undefined): ValuePlan {
  const type = r?.type ?? { case: undefined };
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", checks: scalarChecks(type, "", false, field) };
    case "enum":
      return { kind: "scalar", checks: scalarChecks(type, "", false, field, field.enum) };
    case "message":
      if (type.case === undefined) return { kind: "message", message: field.message };
      if (isWrapperDesc(field.message) && field.oneof === undefined) return { kind: "wrapper", checks: scalarChecks(type, "", false, field) };
      if (isTimeRules(field.message, type)) return { kind: "scalar", checks: planTimeRules(type, "") };
      throw new Delegate(`field ${field.toString()}: ${type.case} rules`);
    case "list":
      return planList(field, type);
    case "map":
      return planMap(field, type);
  }
}

/** Duration / Timestamp rules on a field of that type (predefined-rule extensions are delegated). */
function isTimeRules(message: DescMessage, type: FieldRules["type"]): type is Extract<FieldRules["type"], { case: "duration" | "timestamp" }> {
  if (type.case === "duration") return message.typeName === "google.protobuf.Duration" && !type.value.$unknown?.length;
  if (type.case === "timestamp") return message.typeName === "google.protobuf.Timestamp" && !type.value.$unknown?.length;
  return false;
}

function planList(field: DescField & { fieldKind: "list" }, type: FieldRules["type"]): ValuePlan {
  if (type.case !== undefined && type.case !== "repeated") throw new Delegate(`field ${field.toString()}: ${type.case} rules on a list`);
  const checks: RuleCheck[] = [];
  const rr = type.case === "repeated" ? type.value : undefined;
  if (rr?.$unknown?.length) throw new Delegate(`field ${field.toString()}: predefined rule`);
  if (rr && rr.minItems !== undefined && isFieldSet(rr, fieldOfRepeated("minItems"))) checks.push(listCheck("min_items", `must contain at least ${rr.minItems} item(s)`, { t: "cmp", measure: "length", op: "<", value: Number(rr.minItems) }));
  if (rr && isFieldSet(rr, fieldOfRepeated("maxItems"))) checks.push(listCheck("max_items", `must contain no more than ${rr.maxItems} item(s)`, { t: "cmp", measure: "length", op: ">", value: Number(rr.maxItems) }));
  if (rr?.unique) {
    if (field.listKind === "message") throw new Delegate(`field ${field.toString()}: unique on messages`);
    checks.push(listCheck("unique", "repeated value must contain unique items", { t: "helper", fn: "isUnique", args: [], violatedWhen: false }));
  }
  const items = planItem(field, rr?.items, "repeated.items.", false, field.listKind === "message" ? field.message : undefined, field.listKind === "enum" ? field.enum : undefined);
  return { kind: "list", checks, items };
}

function fieldOfRepeated(name: "minItems" | "maxItems") {
  return FieldRulesSchema.field.repeated.message!.field[name]!;
}

function listCheck(name: string, message: string, test: RuleCheck["test"]): RuleCheck {
  return { rule: `repeated.${name}`, ruleId: `repeated.${name}`, message, forKey: false, test };
}

function planMap(field: DescField & { fieldKind: "map" }, type: FieldRules["type"]): ValuePlan {
  if (type.case !== undefined && type.case !== "map") throw new Delegate(`field ${field.toString()}: ${type.case} rules on a map`);
  const mr = type.case === "map" ? type.value : undefined;
  if (mr?.$unknown?.length) throw new Delegate(`field ${field.toString()}: predefined rule`);
  const checks: RuleCheck[] = [];
  const F = FieldRulesSchema.field.map.message!.field;
  if (mr && isFieldSet(mr, F["minPairs"]!)) checks.push({ rule: "map.min_pairs", ruleId: "map.min_pairs", message: `map must be at least ${mr.minPairs} entries`, forKey: false, test: { t: "cmp", measure: "pairs", op: "<", value: Number(mr.minPairs) } });
  if (mr && isFieldSet(mr, F["maxPairs"]!)) checks.push({ rule: "map.max_pairs", ruleId: "map.max_pairs", message: `map must be at most ${mr.maxPairs} entries`, forKey: false, test: { t: "cmp", measure: "pairs", op: ">", value: Number(mr.maxPairs) } });
  const keys = planItem(field, mr?.keys, "map.keys.", true, undefined, undefined);
  const values = planItem(field, mr?.values, "map.values.", false, field.mapKind === "message" ? field.message : undefined, field.mapKind === "enum" ? field.enum : undefined);
  return { kind: "map", checks, keys, values };
}

function planItem(field: DescField, r: FieldRules | undefined, prefix: string, forKey: boolean, message: DescMessage | undefined, enumDesc: DescField["enum"]): ItemPlan | undefined {
  if (r && (r.cel.length > 0 || r.celExpression.length > 0)) throw new Delegate(`field ${field.toString()}: CEL rule on items`);
  if (r?.$unknown?.length) throw new Delegate(`field ${field.toString()}: unknown rule on items`);
  if (r?.ignore === Ignore.ALWAYS) return undefined;
  if (message !== undefined) {
    if (r?.type.case !== undefined) throw new Delegate(`field ${field.toString()}: ${r.type.case} rules on message items`);
    return { skipZero: undefined, checks: [], message };
  }
  const skipZero = r?.ignore === Ignore.IF_ZERO_VALUE ? zeroOf(field, forKey, enumDesc) : undefined;
  const checks = scalarChecks(r?.type ?? { case: undefined }, prefix, forKey, field, enumDesc);
  return checks.length === 0 ? undefined : { skipZero, checks };
}

function zeroOf(field: DescField, forKey: boolean, enumDesc: DescField["enum"]): Literal {
  if (enumDesc) return enumDesc.values[0]!.number;
  const scalar = field.fieldKind === "map" ? (forKey ? field.mapKey : field.scalar) : field.scalar;
  return scalarZeroValue(scalar!, false) as Literal;
}
