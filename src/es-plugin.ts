import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, protoInt64, maximumEdition, minimumEdition } from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  type CodeGeneratorRequest,
  type Edition,
  type CodeGeneratorResponse,
} from "@bufbuild/protobuf/wkt";
import type { Plugin, Schema } from "@bufbuild/protoplugin";

/** A generated file's target, as protoplugin names it. */
export type Target = "ts" | "js" | "dts";

/** The generators of an ECMAScript plugin: one per target, as protoplugin's `createEcmaScriptPlugin` takes them. */
export interface EsPluginInit<T extends object> {
  readonly name: string;
  readonly version: string;
  parseOptions(rawOptions: { key: string; value: string }[]): T;
  generateTs(schema: Schema<T>, target: "ts"): void;
  generateJs(schema: Schema<T>, target: "js"): void;
  generateDts(schema: Schema<T>, target: "dts"): void;
}

/** What protoplugin 2.x's internal `createSchema` returns: a Schema plus the controller methods. */
interface SchemaController<T extends object> extends Schema<T> {
  prepareGenerate(target: Target): void;
  getFileInfo(): { name: string; content: string; preamble?: string | undefined }[];
}

/** protoplugin's internal modules used here (protoplugin's `schema.js`, `parameter.js`, `safe-identifier.js`). */
interface Internals {
  createSchema<T extends object>(
    request: CodeGeneratorRequest,
    parameter: ParsedParameter<T>,
    pluginName: string,
    pluginVersion: string | undefined,
    minimumEdition: Edition,
    maximumEdition: Edition,
  ): SchemaController<T>;
  parseParameter<T extends object>(parameter: string, parse: (raw: { key: string; value: string }[]) => T): ParsedParameter<T>;
  safeIdentifier(name: string): string;
}

interface ParsedParameter<T> {
  parsed: T & { elidePluginVersion: boolean };
  sanitized: string;
}

/**
 * protoplugin's internals, loaded by file path from its ESM build; undefined
 * when the installed protoplugin has another layout.
 *
 * Why: protoplugin's package entry point imports its transpiler, and so
 * `typescript` (5.4, 9 MB of JS) and `@typescript/vfs` (which resolves the
 * *user's* TypeScript through its peer dependency), at load time, even for a
 * plugin that emits JS and declarations itself. Loading TypeScript costs
 * more time than generating most projects, and a TypeScript that cannot be
 * loaded (or TypeScript 7, which has no JS API) must not matter when nothing
 * is transpiled. The modules loaded here import only `@bufbuild/protobuf`.
 * protoplugin is pinned to an exact version in package.json.
 */
const internals: Internals | undefined = await loadInternals();

async function loadInternals(): Promise<Internals | undefined> {
  let esm: string;
  try {
    // The "require" condition gives dist/cjs/index.js; the ESM build lies beside it.
    esm = join(dirname(createRequire(import.meta.url).resolve("@bufbuild/protoplugin")), "..", "esm");
  } catch {
    return undefined;
  }
  const files = ["schema.js", "parameter.js", "safe-identifier.js"].map((f) => join(esm, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const [schema, parameter, safe] = await Promise.all(files.map((f) => import(pathToFileURL(f).href)));
  const all = { ...schema, ...parameter, ...safe } as Partial<Internals>;
  if (typeof all.createSchema !== "function" || typeof all.parseParameter !== "function" || typeof all.safeIdentifier !== "function") {
    return undefined;
  }
  return all as Internals;
}

/**
 * protoplugin's `safeIdentifier` (a reserved word or a global gets `$`
 * appended), without loading protoplugin's entry point when the internals
 * are available.
 */
export const safeIdentifier: (name: string) => string =
  internals?.safeIdentifier ?? (await import("@bufbuild/protoplugin")).safeIdentifier;

/**
 * An ECMAScript plugin with a generator per target: the steps of
 * protoplugin's `createEcmaScriptPlugin` (parse the parameter, build the
 * schema, run each requested target's generator, add the preambles), with no
 * transpiler at all. With an unknown protoplugin layout it falls back to the
 * public `createEcmaScriptPlugin`, which, given all three generators, does
 * not transpile either (but loads TypeScript).
 */
export async function createEsPlugin<T extends object>(init: EsPluginInit<T>): Promise<Plugin> {
  if (internals === undefined) {
    const { createEcmaScriptPlugin } = await import("@bufbuild/protoplugin");
    return createEcmaScriptPlugin<T>(init);
  }
  const { createSchema, parseParameter } = internals;
  return {
    name: init.name,
    version: init.version,
    run(request: CodeGeneratorRequest): CodeGeneratorResponse {
      const parameter = parseParameter(request.parameter, init.parseOptions);
      const version = parameter.parsed.elidePluginVersion ? undefined : init.version;
      const schema = createSchema(request, parameter, init.name, version, minimumEdition, maximumEdition);
      for (const target of ["ts", "js", "dts"] as const) {
        if (!schema.targets.includes(target)) continue;
        schema.prepareGenerate(target);
        if (target === "ts") init.generateTs(schema, target);
        else if (target === "js") init.generateJs(schema, target);
        else init.generateDts(schema, target);
      }
      return create(CodeGeneratorResponseSchema, {
        supportedFeatures: protoInt64.parse(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL | CodeGeneratorResponse_Feature.SUPPORTS_EDITIONS),
        minimumEdition,
        maximumEdition,
        file: schema.getFileInfo().map((f) => ({
          name: f.name,
          content: f.preamble === undefined ? f.content : `${f.preamble}\n${f.content}`,
        })),
      });
    },
  };
}
