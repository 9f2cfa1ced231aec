import { CelScalar, celEnv, celFromScalar, celMethod, isCelError, parse, plan, type CelEnv } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { DescMessage, ScalarType } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { timestampNow, type Timestamp } from "@bufbuild/protobuf/wkt";
import { isEmail, isHostAndPort, isHostname, isIp, isIpPrefix } from "./formats-net.js";
import { bytesContains, bytesHasPrefix, bytesHasSuffix, compilePattern, type Pattern } from "./strings.js";
import { ValidationRuleError } from "./violations.js";

/**
 * CEL rules of buf.validate (`(buf.validate.field).cel`,
 * `(buf.validate.message).cel`, `cel_expression`) evaluated one rule at a
 * time with `@bufbuild/cel` (the engine protovalidate uses) in protovalidate
 * v1.2.2's environment: the CEL strings extension and its functions
 * `isNan`, `isInf`, `isEmail`, `isHostname`, `isIp`, `isIpPrefix`,
 * `isHostAndPort`, bytes `contains` / `startsWith` / `endsWith`, and
 * `matches` with RE2 semantics. (Rules using `isUri`, `isUriRef`, `unique`
 * or `getField` are delegated whole to @bufbuild/protovalidate by the
 * plugin.) The rest of the message's rules stay compiled.
 */

const asVersion = (v: bigint | undefined): 0 | 4 | 6 | -1 => (v === undefined || v === 0n ? 0 : v === 4n ? 4 : v === 6n ? 6 : -1);

function customFunctions() {
  const patterns = new Map<string, Pattern>();
  return [
    celMethod("isNan", CelScalar.DOUBLE, [], CelScalar.BOOL, function (this: number) {
      return Number.isNaN(this);
    }),
    ...[[], [CelScalar.INT]].map((params) =>
      celMethod("isInf", CelScalar.DOUBLE, params as [], CelScalar.BOOL, function (this: number, sign?: bigint) {
        const s = sign ?? 0n;
        return (s >= 0n && this === Infinity) || (s <= 0n && this === -Infinity);
      }),
    ),
    celMethod("isHostname", CelScalar.STRING, [], CelScalar.BOOL, function (this: string) {
      return isHostname(this);
    }),
    celMethod("isHostAndPort", CelScalar.STRING, [CelScalar.BOOL], CelScalar.BOOL, function (this: string, portRequired: boolean) {
      return isHostAndPort(this, portRequired);
    }),
    celMethod("isEmail", CelScalar.STRING, [], CelScalar.BOOL, function (this: string) {
      return isEmail(this);
    }),
    ...[[], [CelScalar.INT]].map((params) =>
      celMethod("isIp", CelScalar.STRING, params as [], CelScalar.BOOL, function (this: string, version?: bigint) {
        const v = asVersion(version);
        return v >= 0 && isIp(this, v as 0 | 4 | 6);
      }),
    ),
    ...[[], [CelScalar.INT], [CelScalar.BOOL], [CelScalar.INT, CelScalar.BOOL]].map((params) =>
      celMethod("isIpPrefix", CelScalar.STRING, params as [], CelScalar.BOOL, function (this: string, a?: bigint | boolean, b?: boolean) {
        const v = asVersion(typeof a === "bigint" ? a : undefined);
        const strict = typeof a === "boolean" ? a : (b ?? false);
        return v >= 0 && isIpPrefix(this, v as 0 | 4 | 6, strict);
      }),
    ),
    celMethod("contains", CelScalar.BYTES, [CelScalar.BYTES], CelScalar.BOOL, function (this: Uint8Array, x: Uint8Array) {
      return bytesContains(this, x);
    }),
    celMethod("contains", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, x: string) {
      return this.includes(x);
    }),
    celMethod("startsWith", CelScalar.BYTES, [CelScalar.BYTES], CelScalar.BOOL, function (this: Uint8Array, x: Uint8Array) {
      return bytesHasPrefix(this, x);
    }),
    celMethod("startsWith", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, x: string) {
      return this.startsWith(x);
    }),
    celMethod("endsWith", CelScalar.BYTES, [CelScalar.BYTES], CelScalar.BOOL, function (this: Uint8Array, x: Uint8Array) {
      return bytesHasSuffix(this, x);
    }),
    celMethod("endsWith", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, x: string) {
      return this.endsWith(x);
    }),
    celMethod("matches", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, pattern: string) {
      let re = patterns.get(pattern);
      if (re === undefined) {
        re = compilePattern(pattern);
        patterns.set(pattern, re);
      }
      return re.test(this);
    }),
  ];
}

let env: CelEnv | undefined;

/** Bindings of one evaluation: `this`, and `now` (computed on first read, as protovalidate does). */
function bindings(self: unknown): Record<string, unknown> {
  let now: Timestamp | undefined;
  return {
    this: self,
    get now() {
      return (now ??= timestampNow());
    },
  };
}

/**
 * A compiled CEL rule: call it with the value (`this`) to get undefined when
 * the rule holds, or the violation message: the rule's `message`, else the
 * string the expression returned, else `"<expression>" returned false`.
 *
 * Errors: throws ValidationRuleError("runtime") when evaluation fails (e.g.
 * division by zero) or yields neither bool nor string.
 */
export type CelCheck = (value: unknown) => string | undefined;

function compile(expression: string, id: string, message: string, toCel: (v: unknown) => unknown): CelCheck {
  env ??= celEnv({ funcs: [...strings, ...customFunctions()] });
  const run = plan(env, parse(expression));
  return (value) => {
    const result = run(bindings(toCel(value)) as never) as unknown;
    if (result === true || result === "") return undefined;
    if (typeof result === "boolean" || typeof result === "string") {
      if (message !== "") return message;
      return typeof result === "string" ? result : `"${expression}" returned false`;
    }
    if (isCelError(result)) throw new ValidationRuleError("runtime", result.message, { cause: result });
    throw new ValidationRuleError("runtime", `expression ${id} outputs ${typeof result}, wanted either bool or string`);
  };
}

/**
 * A field-level CEL rule on a scalar or enum field (`scalar`: the field's
 * ScalarType; enums as INT32). Compiled once, at module load.
 *
 * @internal Called by generated validators.
 */
export function createFieldCel(expression: string, id: string, message: string, scalar: ScalarType): CelCheck {
  return compile(expression, id, message, (v) => celFromScalar(scalar, v as never));
}

/**
 * A message-level CEL rule (`this` is the message, read through protobuf-es
 * reflection). Compiled once, at module load.
 *
 * @internal Called by generated validators.
 */
export function createMessageCel(expression: string, id: string, message: string, schema: DescMessage): CelCheck {
  return compile(expression, id, message, (m) => reflect(schema, m as never));
}
