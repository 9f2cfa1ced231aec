import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import type { Target } from "../es-plugin.js";

export type { Target } from "../es-plugin.js";

/**
 * Printing one declaration for the three targets from the same model:
 * TypeScript (`ts`), JavaScript (`js`, types erased, no TypeScript-only
 * syntax) and declarations (`dts`, signatures only). Type-only symbols are
 * printed only for ts and dts, so a JS file imports values alone.
 */

/**
 * A parameter of a generated function: `name: type`, or `name?: type` when
 * optional. A parameter the body refers to is named by `FileImports.local`,
 * so that no import of the file takes its name (a service `options` would be
 * shadowed by the parameter `options` in the body).
 */
export interface Param {
  readonly name: Printable;
  readonly type: Printable;
  readonly optional?: boolean;
}

/** The file name suffix of a target: `.ts`, `.js` or `.d.ts`. */
export function targetExtension(t: Target): string {
  return t === "dts" ? ".d.ts" : `.${t}`;
}

/** `: <type>` for ts and dts, nothing for js. */
export function annotation(t: Target, type: Printable): Printable {
  return t === "js" ? [] : [": ", type];
}

/** A parameter list: `a: A, b?: B` (ts, dts) or `a, b` (js). */
export function params(t: Target, ps: readonly Param[]): Printable {
  return ps.flatMap((p, i) => [i === 0 ? "" : ", ", p.name, t === "js" ? [] : [p.optional === true ? "?: " : ": ", p.type]]);
}

/** A non-null assertion `!` after an expression, for ts only. */
export function nonNull(t: Target): string {
  return t === "ts" ? "!" : "";
}

/**
 * The `/*@__PURE__*\/` annotation before a call whose result alone matters,
 * so that bundlers drop a module-level call whose result is unused (as
 * protoc-gen-es marks its descriptor calls).
 */
export const pure = "/*@__PURE__*/ ";

/**
 * Print an exported function or a class method:
 * `export function name(a: A): R {` ... `}` (ts), the same without types
 * (js), or only `export declare function name(a: A): R;` (dts). `body`
 * prints the statements (not called for dts).
 */
export function printFunction(
  f: GeneratedFile,
  t: Target,
  decl: { readonly function: string } | { readonly method: string; readonly indent: string },
  ps: readonly Param[],
  returns: Printable,
  body: () => void,
): void {
  const indent = "method" in decl ? decl.indent : "";
  const head: Printable = "method" in decl ? [indent, decl.method] : f.export(t === "dts" ? "declare function" : "function", decl.function);
  const sig: Printable = [head, "(", params(t, ps), ")", annotation(t, returns)];
  if (t === "dts") {
    f.print(sig, ";");
    return;
  }
  f.print(sig, " {");
  body();
  f.print(indent, "}");
}

/**
 * Print an exported constant: `export const name: T = <value>;` (ts), the
 * same without the type (js), or `export declare const name: T;` (dts).
 * `value` holds the initializer's lines: the first follows `= `, `;` ends
 * the last.
 */
export function printConst(f: GeneratedFile, t: Target, name: string, type: Printable, value: readonly Printable[]): void {
  if (t === "dts") {
    f.print(f.export("declare const", name), ": ", type, ";");
    return;
  }
  const head: Printable = [f.export("const", name), annotation(t, type), " = "];
  if (value.length <= 1) {
    f.print(head, value[0] ?? "undefined", ";");
    return;
  }
  f.print(head, value[0]!);
  for (const line of value.slice(1, -1)) f.print(line);
  f.print(value[value.length - 1]!, ";");
}
