import { UserError } from "../errors.js";

/**
 * protoplugin's options whose values are a closed set, with the values it
 * accepts (`@bufbuild/protoplugin` parameter.ts). protoplugin rejects a bad
 * value with `invalid option "target=tsx"` only; checked first, the error
 * lists what is allowed.
 */
const closedOptions: Readonly<Record<string, { readonly allowed: readonly string[]; readonly hint: string; readonly split?: string }>> = {
  target: { allowed: ["js", "ts", "dts"], split: "+", hint: "js, ts or dts, or several joined with + (default js+dts)" },
  import_extension: { allowed: ["none", "", "js", ".js", "ts", ".ts"], hint: "none, js or ts (default none)" },
  js_import_style: { allowed: ["module", "legacy_commonjs"], hint: "module or legacy_commonjs (default module)" },
  keep_empty_files: { allowed: ["true", "1", "false", "0"], hint: "true or false" },
  ts_nocheck: { allowed: ["true", "1", "false", "0"], hint: "true or false" },
};

/**
 * Check the values of protoplugin's closed-set options in a plugin
 * parameter (`target=ts,import_extension=js`, split as protoplugin does: on
 * `,`, then at the first `=`). Throws a UserError naming the option, the bad
 * value and the allowed values; other options are left to protoplugin and
 * parseOptions.
 */
export function checkStandardOptions(parameter: string): void {
  if (parameter === "") return;
  for (const raw of parameter.split(",")) {
    const eq = raw.indexOf("=");
    const key = eq === -1 ? raw : raw.substring(0, eq);
    const value = eq === -1 ? "" : raw.substring(eq + 1);
    const spec = closedOptions[key];
    if (spec === undefined) continue;
    const parts = spec.split === undefined ? [value] : value.split(spec.split);
    const bad = parts.find((p) => !spec.allowed.includes(p));
    if (bad === undefined) continue;
    const detail = bad === value ? "" : ` (${JSON.stringify(bad)} is not one)`;
    throw new UserError(`option "${key}" takes ${spec.hint}, not ${JSON.stringify(value)}${detail}`);
  }
}
