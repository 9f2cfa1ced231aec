import { celEnv, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { isFieldSet, type Message } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate, type FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { RuleCheck, RuleTest, TimeBound, TimeValue } from "./validation-plan.js";

type DurationRules = Extract<FieldRules["type"], { case: "duration" }>["value"];
type TimestampRules = Extract<FieldRules["type"], { case: "timestamp" }>["value"];

/**
 * Compile `duration` and `timestamp` rules (google.protobuf.Duration /
 * Timestamp fields) in protovalidate v1.2.2's order: const, lt / lte alone,
 * lt_now, gt / gte (alone or with lt / lte, exclusive when gt >= lt),
 * gt_now, within, in, not_in. Messages embed the rule values formatted by
 * @bufbuild/cel (`5s`, `1.500s`, `2023-11-14T22:13:20Z`), exactly as
 * protovalidate's CEL rules print them.
 */
export function planTimeRules(type: { case: "duration"; value: DurationRules } | { case: "timestamp"; value: TimestampRules }, prefix: string): RuleCheck[] {
  const r = type.value as unknown as Message & {
    const?: Duration | Timestamp;
    lessThan: { case: string | undefined; value?: unknown };
    greaterThan: { case: string | undefined; value?: unknown };
    within?: Duration;
    in: Duration[];
    notIn: Duration[];
  };
  const kind = type.case;
  const base = `${prefix}${kind}`;
  const out: RuleCheck[] = [];
  const add = (name: string, message: string, test: RuleTest, id = `${kind}.${name}`) => out.push({ rule: `${base}.${name}`, ruleId: id, message, forKey: false, test });
  if (r.const !== undefined && isFieldSet(r, fieldOf(r, "const"))) add("const", `must equal ${format(r.const)}`, { t: "timeCmp", op: "!==", value: time(r.const) });
  const lo = r.greaterThan.case === "gt" || r.greaterThan.case === "gte" ? { kind: r.greaterThan.case, v: r.greaterThan.value as Duration | Timestamp } : undefined;
  const hi = r.lessThan.case === "lt" || r.lessThan.case === "lte" ? { kind: r.lessThan.case, v: r.lessThan.value as Duration | Timestamp } : undefined;
  const loText = lo && `greater than ${lo.kind === "gte" ? "or equal to " : ""}${format(lo.v)}`;
  const hiText = hi && `less than ${hi.kind === "lte" ? "or equal to " : ""}${format(hi.v)}`;
  const loB: TimeBound | undefined = lo && { op: lo.kind === "gt" ? ">" : ">=", value: time(lo.v) };
  const hiB: TimeBound | undefined = hi && { op: hi.kind === "lt" ? "<" : "<=", value: time(hi.v) };
  if (hi && !lo) add(hi.kind, `must be ${hiText}`, { t: "timeRange", hi: hiB, or: false });
  if (r.lessThan.case === "ltNow" && r.lessThan.value) add("lt_now", "must be less than now", { t: "now", violatedWhen: ">" });
  if (lo && hi) {
    const normal = compare(time(hi.v), time(lo.v)) >= 0;
    add(lo.kind, `must be ${loText} ${normal ? "and" : "or"} ${hiText}`, { t: "timeRange", lo: loB, hi: hiB, or: !normal }, `${kind}.${lo.kind}_${hi.kind}${normal ? "" : "_exclusive"}`);
  } else if (lo) add(lo.kind, `must be ${loText}`, { t: "timeRange", lo: loB, or: false });
  if (r.greaterThan.case === "gtNow" && r.greaterThan.value) add("gt_now", "must be greater than now", { t: "now", violatedWhen: "<" });
  if (r.within !== undefined) add("within", `must be within ${format(r.within)} of now`, { t: "within", value: time(r.within) });
  if (kind === "duration") {
    if (r.in.length > 0) add("in", `must be in list ${format(r.in)}`, { t: "timeIn", values: r.in.map(time), negate: false });
    if (r.notIn.length > 0) add("not_in", `must not be in list ${format(r.notIn)}`, { t: "timeIn", values: r.notIn.map(time), negate: true });
  }
  return out;
}

function fieldOf(r: Message, localName: string) {
  return file_buf_validate_validate.messages.find((m) => m.typeName === r.$typeName)!.field[localName]!;
}

const time = (v: Duration | Timestamp): TimeValue => ({ seconds: v.seconds, nanos: v.nanos });

function compare(a: TimeValue, b: TimeValue): number {
  return a.seconds < b.seconds ? -1 : a.seconds > b.seconds ? 1 : a.nanos - b.nanos;
}

let formatter: ((ctx: { x: unknown }) => unknown) | undefined;

/** `'%s'.format([x])` evaluated by @bufbuild/cel: the text protovalidate's rule messages embed. */
function format(x: Duration | Timestamp | readonly (Duration | Timestamp)[]): string {
  formatter ??= plan(celEnv({ funcs: [...strings] }), parse("'%s'.format([x])")) as never;
  return String(formatter!({ x }));
}
