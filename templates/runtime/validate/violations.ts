/**
 * Violations of buf.validate (protovalidate) rules, as generated validators
 * report them, in the shape of protovalidate's `buf.validate.Violation`.
 */

/** One violated rule (protovalidate `buf.validate.Violation`). */
export interface Violation {
  /**
   * Path to the offending field, in protobuf-es `pathToString` form:
   * `email`, `items[2].name`, `labels["env"]`; `""` for message-level rules.
   */
  readonly field: string;
  /** Path to the rule in the field's `buf.validate.FieldRules`, e.g. `string.min_len`, `repeated.items.string.pattern`; `""` when there is none. */
  readonly rule: string;
  /** The rule's id, e.g. `string.min_len`, `required`, or a CEL rule's `id`. */
  readonly ruleId: string;
  /** Human-readable text, identical to protovalidate's. */
  readonly message: string;
  /** True when the violation is about a map key rather than its value. */
  readonly forKey: boolean;
}

/** The result of validating one message. */
export type ValidationResult =
  | { readonly kind: "valid" }
  | { readonly kind: "invalid"; readonly violations: readonly Violation[] }
  | { readonly kind: "error"; readonly error: ValidationRuleError };

/** Options of a generated `validate<Message>()` function. */
export interface ValidateOptions {
  /** Stop at the first violation. Default `false`: report all violations (protovalidate's default). */
  readonly failFast?: boolean;
}

/**
 * A rule that cannot be evaluated: `kind` "compilation" (the rule itself is
 * bad, e.g. an invalid CEL expression) or "runtime" (evaluation failed, e.g. a
 * CEL expression dividing by zero), as protovalidate's CompilationError and
 * RuntimeError.
 */
export class ValidationRuleError extends Error {
  override name = "ValidationRuleError";
  constructor(
    readonly kind: "compilation" | "runtime",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A violation with a fixed field path, built once at module load (frozen, so
 * one object serves every validation that reports it).
 *
 * @internal Called by generated code only.
 */
export function violation(field: string, rule: string, ruleId: string, message: string, forKey = false): Violation {
  return Object.freeze({ field, rule, ruleId, message, forKey });
}

/**
 * The collector generated checks write into. One instance is reused by every
 * validation (validation is synchronous), so the valid path allocates
 * nothing; an invalid one allocates the violations list, the violations whose
 * field path is only known at run time (list items, map entries, nested
 * messages) and the result.
 *
 * @internal Called by generated code only.
 */
export class ViolationCollector {
  list: Violation[] = [];
  failFast = false;

  /** Record a violation built now (its field path is known only at run time); returns true when checking should stop (fail-fast). */
  add(field: string, rule: string, ruleId: string, message: string, forKey: boolean): boolean {
    this.list.push({ field, rule, ruleId, message, forKey });
    return this.failFast;
  }

  /** Record a prebuilt violation (a module constant, or from a delegated validator); returns true when checking should stop. */
  push(v: Violation): boolean {
    this.list.push(v);
    return this.failFast;
  }

  /**
   * Prefix the field paths of the violations recorded since `from` with
   * `segment` (a field name, possibly with a subscript: `items[2]`), replacing
   * each with a new violation (they may be shared constants). `dotted` is
   * `segment + "."`, passed by generated code as a constant or a cached
   * string so that nothing but the new paths is built. Returns true when
   * checking should stop.
   */
  nest(from: number, segment: string, dotted: string = segment + "."): boolean {
    const list = this.list;
    for (let i = from; i < list.length; i++) {
      const v = list[i]!;
      const field = v.field === "" ? segment : v.field.charCodeAt(0) === 91 /* [ */ ? segment + v.field : dotted + v.field;
      list[i] = { field, rule: v.rule, ruleId: v.ruleId, message: v.message, forKey: v.forKey };
    }
    return this.failFast && list.length > 0;
  }
}

/** Indexes below this get their item paths cached (per repeated field: at most 2 x 256 short strings). */
const cachedItems = 256;

/**
 * Field paths of the items of one repeated field: `name[i]` and, for items
 * that are messages, the prefix `name[i].` of their fields' paths. Each is
 * built on first use and kept for indexes below 256, so a violation on a
 * list item builds no path string after the first time.
 *
 * @internal Created by generated code at module load.
 */
export class ItemPaths {
  private readonly paths: string[] = [];
  private readonly prefixes: string[] = [];
  constructor(readonly name: string) {}

  /** `name[i]`, e.g. `tags[3]`. */
  path(i: number): string {
    let s = this.paths[i];
    if (s === undefined) {
      s = `${this.name}[${i}]`;
      if (i < cachedItems) this.paths[i] = s;
    }
    return s;
  }

  /** `name[i].`, the prefix of the paths of the fields of item `i`. */
  prefix(i: number): string {
    let s = this.prefixes[i];
    if (s === undefined) {
      s = `${this.path(i)}.`;
      if (i < cachedItems) this.prefixes[i] = s;
    }
    return s;
  }
}

/**
 * The item paths of the repeated field `name` (its proto name).
 *
 * @internal Called by generated code at module load.
 */
export function itemPaths(name: string): ItemPaths {
  return new ItemPaths(name);
}

const shared = new ViolationCollector();
const valid: ValidationResult = Object.freeze({ kind: "valid" });

/**
 * Run a generated check function on a message and return protovalidate's
 * result shape. A `ValidationRuleError` thrown by a check becomes
 * `{ kind: "error" }`; any other exception propagates.
 *
 * @internal Called by generated `validate<Message>()` functions.
 */
export function runValidation<T>(check: (message: T, c: ViolationCollector) => void, message: T, options?: ValidateOptions): ValidationResult {
  // the shared collector, unless a check re-enters validation (e.g. from a CEL function)
  const c = busy ? new ViolationCollector() : shared;
  const reused = c === shared;
  busy = true;
  c.failFast = options !== undefined && options.failFast === true;
  try {
    check(message, c);
  } catch (err) {
    c.list = [];
    if (err instanceof ValidationRuleError) return { kind: "error", error: err };
    throw err;
  } finally {
    if (reused) busy = false;
    c.failFast = false;
  }
  const violations = c.list;
  if (violations.length === 0) return valid;
  c.list = [];
  return { kind: "invalid", violations };
}
let busy = false;

const escapes = /["\\\r\n]/g;
const escapeOf: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\r": "\\r", "\n": "\\n" };

/** Map-key subscript in protobuf-es `pathToString` form: `["a\"b"]` for strings, `[12]` / `[true]` otherwise. */
export function keySubscript(key: string | number | bigint | boolean): string {
  if (typeof key !== "string") return `[${String(key)}]`;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 34 /* " */ || c === 92 /* \ */ || c === 13 || c === 10) return `["${key.replace(escapes, (c) => escapeOf[c]!)}"]`;
  }
  return `["${key}"]`;
}

/** Format a value list as protovalidate does in `in` / `not_in` messages: `[a, b]`. */
export function formatList(values: readonly unknown[]): string {
  return `[${values.map((v) => String(v)).join(", ")}]`;
}
