import type { DescFile, DescMessage } from "@bufbuild/protobuf";
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
  readonly index: ReturnType<typeof createValidationIndex>;
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
  for (const file of plan.files) emitValidators(schema, target, file, plan.index, plan.generated);
  return plan.result;
}

function planValidators(schema: Schema<GrpckitOptions>): Planned {
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
