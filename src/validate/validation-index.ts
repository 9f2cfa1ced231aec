import { create, createRegistry, getOption, hasOption, isFieldSet, type DescExtension, type DescField, type DescFile, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { StringRulesSchema, field as fieldExt, message as messageExt, oneof as oneofExt, predefined as predefinedExt, type StringRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { createValidator } from "@bufbuild/protovalidate";
import { parse } from "@bufbuild/cel";
import { RE2JS } from "@bufbuild/re2";
import { planMessage } from "./plan-message.js";
import type { ValidationPlan, ValuePlan } from "./validation-plan.js";

/**
 * The validation plans of a CodeGeneratorRequest: one per message type,
 * built on first use and cached; `needsCheck` tells whether a message has
 * anything to check, its nested messages included (recursive types are
 * resolved by a fixpoint, so a cycle without rules is pruned).
 */
export interface ValidationIndex {
  plan(desc: DescMessage): ValidationPlan;
  needsCheck(desc: DescMessage): boolean;
  /** Predefined-rule extensions (extending buf.validate.*Rules) of the request, by extendee and number. */
  readonly registry: Registry;
}

export function createValidationIndex(files: readonly DescFile[]): ValidationIndex {
  const registry = createRegistry(...files);
  const plans = new Map<string, ValidationPlan>();
  const needs = new Map<string, boolean>();
  const validator = createValidator({ registry });
  const plan = (desc: DescMessage): ValidationPlan => {
    let p = plans.get(desc.typeName);
    if (p === undefined) {
      // Only a message annotated with rules can have rules that cannot hold; asking
      // protovalidate to compile the others would cost O(messages) for nothing.
      p = (hasRuleOptions(desc) ? checkRules(desc, validator, registry) : undefined) ?? planMessage(desc);
      if (p.kind === "delegated") p = { ...p, extensions: usedExtensions(desc, registry) };
      plans.set(desc.typeName, p);
    }
    return p;
  };
  const needsCheck = (desc: DescMessage): boolean => {
    const known = needs.get(desc.typeName);
    if (known !== undefined) return known;
    const closure = reachable(desc, plan);
    const result = new Map<string, boolean>();
    for (const d of closure) result.set(d.typeName, hasOwnChecks(plan(d)));
    for (let changed = true; changed; ) {
      changed = false;
      for (const d of closure) {
        if (result.get(d.typeName)) continue;
        if (nestedMessages(plan(d)).some((n) => result.get(n.typeName))) {
          result.set(d.typeName, true);
          changed = true;
        }
      }
    }
    for (const [k, v] of result) needs.set(k, v);
    return result.get(desc.typeName)!;
  };
  return { plan, needsCheck, registry };
}

/**
 * Let @bufbuild/protovalidate compile the message's rules (and those of the
 * messages it contains) on an empty message: a CompilationError (bad CEL,
 * rule of the wrong type, bad oneof rule, unknown predefined rule) makes a
 * BrokenPlan with protovalidate's reason.
 */
function checkRules(desc: DescMessage, validator: ReturnType<typeof createValidator>, registry: Registry): ValidationPlan | undefined {
  const result = validator.validate(desc, create(desc));
  if (result.kind === "error" && result.error.name === "CompilationError") {
    return { kind: "broken", desc, problem: result.error.message };
  }
  // What protovalidate compiles only once a value is set: a `string.pattern`, a predefined rule's CEL.
  for (const f of desc.fields) {
    const problem = patternProblem(f) ?? predefinedCelProblem(f, registry);
    if (problem !== undefined) return { kind: "broken", desc, problem: `field ${f.name}: ${problem}` };
  }
  return undefined;
}

/** Why a `string.pattern` of the field's rules (items, keys and values included) is not a valid RE2 expression, or undefined. */
function patternProblem(f: DescField): string | undefined {
  for (const rules of nestedRules(getOption(f, fieldExt))) {
    if (rules.$typeName !== StringRulesSchema.typeName || !isFieldSet(rules as StringRules, StringRulesSchema.field.pattern)) continue;
    const pattern = (rules as StringRules).pattern;
    try {
      RE2JS.compile(pattern);
    } catch (e) {
      return `string.pattern ${JSON.stringify(pattern)} is not a valid RE2 expression (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  return undefined;
}

/** Why the CEL of a predefined rule the field uses does not parse, or undefined. */
function predefinedCelProblem(f: DescField, registry: Registry): string | undefined {
  for (const ext of extensionsOfField(f, registry)) {
    if (!hasOption(ext, predefinedExt)) continue;
    for (const rule of getOption(ext, predefinedExt).cel) {
      try {
        parse(rule.expression);
      } catch (e) {
        return `predefined rule ${ext.typeName} (${JSON.stringify(rule.id)}): CEL expression ${JSON.stringify(rule.expression)} does not parse (${e instanceof Error ? e.message : String(e)})`;
      }
    }
  }
  return undefined;
}

/** Every rules message inside `m` (m itself, then nested `*Rules`, e.g. `repeated.items.string`), depth first. */
function nestedRules(m: Message | undefined): Message[] {
  if (m === undefined) return [];
  const out: Message[] = [m];
  for (const v of Object.values(m) as unknown[]) {
    if (typeof v !== "object" || v === null) continue;
    const inner = "case" in v ? (v as { value?: unknown }).value : v;
    if (typeof inner === "object" && inner !== null && "$typeName" in inner) out.push(...nestedRules(inner as Message));
  }
  return out;
}

/** Whether the message, one of its fields or one of its oneofs carries buf.validate options. */
function hasRuleOptions(desc: DescMessage): boolean {
  return hasOption(desc, messageExt) || desc.fields.some((f) => hasOption(f, fieldExt)) || desc.oneofs.some((o) => hasOption(o, oneofExt));
}

function hasOwnChecks(p: ValidationPlan): boolean {
  if (p.kind !== "compiled") return true;
  return p.messageOneofs.length > 0 || p.requiredOneofs.length > 0 || p.messageCel.length > 0 || p.fields.some((f) => f.required || f.cel.length > 0 || valueHasChecks(f.value));
}

/** Whether a field's value has rules of its own (nested messages are judged by their own plans). */
function valueHasChecks(v: ValuePlan): boolean {
  switch (v.kind) {
    case "scalar":
    case "wrapper":
      return v.checks.length > 0;
    case "message":
      return false;
    case "list":
      return v.checks.length > 0 || (v.items?.checks.length ?? 0) > 0;
    case "map":
      return v.checks.length > 0 || (v.keys?.checks.length ?? 0) > 0 || (v.values?.checks.length ?? 0) > 0;
  }
}

/** The message types a compiled plan validates recursively. */
export function nestedMessages(p: ValidationPlan): DescMessage[] {
  if (p.kind !== "compiled") return [];
  const out: DescMessage[] = [];
  for (const f of p.fields) {
    const v = f.value;
    if (v.kind === "message") out.push(v.message);
    else if (v.kind === "list" && v.items?.message) out.push(v.items.message);
    else if (v.kind === "map" && v.values?.message) out.push(v.values.message);
  }
  return out;
}

function reachable(root: DescMessage, plan: (d: DescMessage) => ValidationPlan): DescMessage[] {
  const seen = new Map<string, DescMessage>([[root.typeName, root]]);
  const todo = [root];
  for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
    for (const n of nestedMessages(plan(d))) {
      if (!seen.has(n.typeName)) {
        seen.set(n.typeName, n);
        todo.push(n);
      }
    }
  }
  return [...seen.values()];
}

/** Extensions of buf.validate.*Rules used (as unknown fields) by the rules of `desc` and the messages it contains, sorted by name. */
function usedExtensions(root: DescMessage, registry: Registry): DescExtension[] {
  const out = new Map<string, DescExtension>();
  const seen = new Set<string>();
  const visit = (d: DescMessage): void => {
    if (seen.has(d.typeName)) return;
    seen.add(d.typeName);
    for (const f of d.fields) {
      for (const ext of extensionsOfField(f, registry)) out.set(ext.typeName, ext);
      if (f.message) visit(f.message);
    }
  };
  visit(root);
  return [...out.values()].sort((a, b) => (a.typeName < b.typeName ? -1 : a.typeName > b.typeName ? 1 : 0));
}


function extensionsOfField(f: DescField, registry: Registry): DescExtension[] {
  if (!hasOption(f, fieldExt)) return [];
  const out: DescExtension[] = [];
  const walk = (m: Message | undefined): void => {
    if (m === undefined) return;
    for (const u of m.$unknown ?? []) {
      const ext = registry.getExtensionFor(registry.getMessage(m.$typeName)!, u.no);
      if (ext) out.push(ext);
    }
    for (const v of Object.values(m) as unknown[]) {
      if (typeof v !== "object" || v === null) continue;
      const inner = "case" in v ? (v as { value?: unknown }).value : v;
      if (typeof inner === "object" && inner !== null && "$typeName" in inner) walk(inner as Message);
    }
  };
  walk(getOption(f, fieldExt));
  return out;
}
