import type { CompiledCel } from "./compile-cel.js";
import type { DescExtension, DescField, DescMessage, DescOneof } from "@bufbuild/protobuf";

/**
 * What the plugin decided to check for one message type: plain readonly data
 * built from the `buf.validate` options (see plan-message.ts), printed by
 * emit-validators.ts. Rules the plugin does not compile make the message
 * `delegated`: it is validated by `@bufbuild/protovalidate` at run time,
 * with the same verdict.
 */
export type ValidationPlan = CompiledPlan | DelegatedPlan | BrokenPlan;

interface PlanBase {
  readonly desc: DescMessage;
}

/** Every rule of the message compiled to TypeScript. */
export interface CompiledPlan extends PlanBase {
  readonly kind: "compiled";
  readonly fields: readonly FieldPlan[];
  /** `(buf.validate.message).oneof` rules. */
  readonly messageOneofs: readonly { readonly fields: readonly DescField[]; readonly required: boolean }[];
  /** Oneofs with `(buf.validate.oneof).required`. */
  readonly requiredOneofs: readonly DescOneof[];
  /** Message-level CEL rules (`cel_expression` first, then `cel`), evaluated after the fields. */
  readonly messageCel: readonly CelRule[];
}

/** One CEL rule, evaluated at run time with @bufbuild/cel (see templates/runtime/validate/cel.ts). */
export interface CelRule {
  readonly expression: string;
  readonly id: string;
  /** The rule's message; "" to use the expression's string result or `"<expression>" returned false`. */
  readonly message: string;
  /** Rule path: `cel[0]`, `cel_expression[0]`; "" for message-level rules. */
  readonly rule: string;
  /** The expression compiled to TypeScript (see compile-cel.ts), or undefined: evaluated at run time. */
  readonly compiled: CompiledCel | undefined;
}

/** The message is handed to `@bufbuild/protovalidate` at run time. */
export interface DelegatedPlan extends PlanBase {
  readonly kind: "delegated";
  /** Why, e.g. `field pkg.Msg.f: CEL rule`. */
  readonly reason: string;
  /** Predefined-rule extensions the message's rules use (the delegate registers them). */
  readonly extensions: readonly DescExtension[];
}

/** The rules cannot be compiled (reported at generation time unless `invalid_rules=runtime_error`). */
export interface BrokenPlan extends PlanBase {
  readonly kind: "broken";
  readonly problem: string;
}

/** The checks of one field. */
export interface FieldPlan {
  readonly field: DescField;
  /** `required`: the field must be set (`value is required`). */
  readonly required: boolean;
  /** When the value checks run: always, only when the field is set, or never (ignore ALWAYS). */
  readonly when: "always" | "if-set";
  /** Field-level CEL rules on a scalar or enum field (`cel`, then `cel_expression`), evaluated before the value's standard rules. */
  readonly cel: readonly CelRule[];
  readonly value: ValuePlan;
}

/** Checks of a field's value, by field kind. */
export type ValuePlan =
  | { readonly kind: "scalar"; readonly checks: readonly RuleCheck[] }
  | { readonly kind: "wrapper"; readonly checks: readonly RuleCheck[] }
  | { readonly kind: "message"; readonly message: DescMessage }
  | { readonly kind: "list"; readonly checks: readonly RuleCheck[]; readonly items: ItemPlan | undefined }
  | { readonly kind: "map"; readonly checks: readonly RuleCheck[]; readonly keys: ItemPlan | undefined; readonly values: ItemPlan | undefined };

/** Checks of each list item, map key or map value. */
export interface ItemPlan {
  /** The zero value to skip (`ignore = IGNORE_IF_ZERO_VALUE` on items / keys / values; for enums the first value), or undefined. */
  readonly skipZero: Literal | undefined;
  readonly checks: readonly RuleCheck[];
  /** The item's message type, validated with its own plan. */
  readonly message?: DescMessage;
}

/** A literal value of a rule. */
export type Literal = number | bigint | string | boolean | Uint8Array | readonly Uint8Array[];

/** One standard rule: a test on the value and the violation it produces. */
export interface RuleCheck {
  readonly test: RuleTest;
  /** Rule path, e.g. `repeated.items.string.min_len`. */
  readonly rule: string;
  readonly ruleId: string;
  /** protovalidate's message, computed at generation time. */
  readonly message: string;
  readonly forKey: boolean;
}

/** A test that is true when the rule is VIOLATED. */
export type RuleTest =
  /** `measure(v) op value`, e.g. code points < 3. */
  | { readonly t: "cmp"; readonly measure: Measure; readonly op: "<" | "<=" | ">" | ">=" | "!==" | "==="; readonly value: Literal }
  /** Numeric range; `or` for an exclusive range (gt > lt); `nan` when NaN fails. */
  | { readonly t: "range"; readonly lo?: Bound; readonly hi?: Bound; readonly or: boolean; readonly nan: boolean }
  /** `v` in `values`; `enumNumber`: `v` is an enum value compared as a number (some of `values` are not declared). */
  | { readonly t: "in"; readonly values: readonly Literal[]; readonly negate: boolean; readonly enumNumber?: boolean }
  /** A runtime helper `fn(v, ...args)`; violated when its result equals `violatedWhen`. */
  | { readonly t: "helper"; readonly fn: string; readonly args: readonly Literal[]; readonly violatedWhen: boolean }
  | { readonly t: "pattern"; readonly source: string; readonly bytes: boolean }
  | { readonly t: "finite" }
  /** Duration / Timestamp `v` compared with a value: violated when `compare(v, value) op 0`. */
  | { readonly t: "timeCmp"; readonly op: "!=="; readonly value: TimeValue }
  /** Duration / Timestamp range; `or` for an exclusive range. */
  | { readonly t: "timeRange"; readonly lo?: TimeBound; readonly hi?: TimeBound; readonly or: boolean }
  | { readonly t: "timeIn"; readonly values: readonly TimeValue[]; readonly negate: boolean }
  /** Timestamp vs the current time: violated when `compare(v, now) violatedWhen 0`. */
  | { readonly t: "now"; readonly violatedWhen: "<" | ">" }
  /** Timestamp within `value` of now. */
  | { readonly t: "within"; readonly value: TimeValue }
  | { readonly t: "empty" };

/** A Duration or Timestamp value (seconds and nanos). */
export interface TimeValue {
  readonly seconds: bigint;
  readonly nanos: number;
}

export interface TimeBound {
  readonly op: ">" | ">=" | "<" | "<=";
  readonly value: TimeValue;
}

/** What a "cmp" test compares; `enumNumber`: an enum value as a number (a rule may name a number the enum does not declare: proto3 enums are open). */
export type Measure = "value" | "enumNumber" | "codepoints" | "utf8" | "length" | "pairs";

export interface Bound {
  readonly op: ">" | ">=" | "<" | "<=";
  readonly value: number | bigint;
}
