import type { DescExtension, DescFile, DescMessage } from "@bufbuild/protobuf";
import { field as fieldExt, message as messageExt, oneof as oneofExt } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { Target } from "../es-plugin.js";
import type { Schema } from "@bufbuild/protoplugin";
import { userErrorAt } from "../errors.js";
import { emitValidators, validatedMessages } from "../emit/emit-validators.js";
import type { GrpckitOptions } from "../options/parse-options.js";
import { createValidationIndex } from "./validation-index.js";

/** The validators one plugin run generates, for the service emitters. */
export interface GeneratedValidators {
  /**
   * True when `desc` gets a generated `validate<Msg>()` in its file's
   * `<file>_validate.ts`: it has rules to check and its file is part of this
   * generation request (messages of other files, and well-known types, are
   * not validated by generated servers).
   */
  hasValidator(desc: DescMessage): boolean;
}

/** What planning found, computed once per plugin run and shared by its targets. */
interface Planned {
  /** Undefined when nothing is validated (see mayValidate). */
  readonly index: ReturnType<typeof createValidationIndex> | undefined;
  readonly files: readonly DescFile[];
  readonly generated: ReadonlySet<string>;
  readonly result: GeneratedValidators;
}

const planned = new WeakMap<Schema<GrpckitOptions>, Planned>();

/**
 * Plan the validators of every file to generate, report rules that cannot
 * hold (unless `invalid_rules=runtime_error`), then emit one
 * `<file>_validate.ts` (`.js`, `.d.ts` for those targets) per file with
 * validated messages. Planning runs once per schema, whatever the number of
 * targets. Returns what was generated (for the service emitters), or
 * undefined with `validate=false`.
 */
export function generateValidators(schema: Schema<GrpckitOptions>, target: Target = "ts"): GeneratedValidators | undefined {
  if (!schema.options.validate) return undefined;
  let plan = planned.get(schema);
  if (plan === undefined) {
    plan = planValidators(schema);
    planned.set(schema, plan);
  }
  const index = plan.index;
  if (index !== undefined) for (const file of plan.files) emitValidators(schema, target, file, index, plan.generated);
  return plan.result;
}

function planValidators(schema: Schema<GrpckitOptions>): Planned {
  if (!mayValidate(schema.allFiles)) return { index: undefined, files: [], generated: new Set(), result: { hasValidator: () => false } };
  const index = createValidationIndex(schema.allFiles);
  const perFile = schema.files.map((file) => ({ file, messages: validatedMessages(file, index) }));
  if (schema.options.invalidRules === "error") {
    for (const { file, messages } of perFile) {
      for (const m of messages) {
        const plan = index.plan(m);
        if (plan.kind === "broken") throw userErrorAt(file.proto.name, `message ${m.typeName}`, `invalid buf.validate rule: ${plan.problem}`);
      }
    }
  }
  const generated = new Set(perFile.filter((x) => x.messages.length > 0).map((x) => x.file.name));
  const validated = new Set(perFile.flatMap((x) => x.messages.map((m) => m.typeName)));
  return { index, files: perFile.map((x) => x.file), generated, result: { hasValidator: (desc) => validated.has(desc.typeName) } };
}

/** The extensions buf.validate rules are read from (by extendee and number, as protobuf-es reads options). */
const ruleExtensions: readonly DescExtension[] = [messageExt, fieldExt, oneofExt];

/**
 * Whether planning can give any validator. A buf.validate rule can only be
 * set when a file of the request declares a rule extension (protoc and buf
 * resolve options against the imports, and every import is in the request).
 * This linear scan of the request
 * spares planning every message of a large request that has no rules, such
 * as most of googleapis (about a tenth of the plugin's time there).
 */
function mayValidate(files: readonly DescFile[]): boolean {
  const isRuleExtension = (ext: DescExtension) =>
    ruleExtensions.some((r) => r.number === ext.number && r.extendee.typeName === ext.extendee.typeName);
  const visit = (messages: readonly DescMessage[]): boolean =>
    messages.some(
      (m) =>
        m.nestedExtensions.some(isRuleExtension) || visit(m.nestedMessages),
    );
  return files.some((file) => file.extensions.some(isRuleExtension) || visit(file.messages));
}
