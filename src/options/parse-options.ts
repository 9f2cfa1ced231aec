import { removedResilienceOptionError, removedResilienceOptions } from "./parse-resilience-options.js";

/**
 * The plugin's own options (protoplugin parses its standard ones: `target`,
 * `import_extension`, `js_import_style`, `rewrite_imports`, `keep_empty_files`,
 * `ts_nocheck`, ...). Parsed once, strictly; nothing downstream re-reads them.
 */
export interface GrpckitOptions {
  /** Emit the server skeleton (handler interface, `add<Service>` functions). Option `server`, default `true`. */
  readonly server: boolean;
  /** Emit the typed client class. Option `client`, default `true`. */
  readonly client: boolean;
  /**
   * Module specifier generated code imports the runtime from. Option
   * `runtime_import`, default `@grpckit/runtime`. A package
   * specifier: generated code also imports its `/validate` and `/telemetry`
   * subpaths.
   */
  readonly runtimeImport: string;
  /**
   * Wire OpenTelemetry into generated clients and `add<Service>` functions
   * through the runtime's telemetry hooks (`<runtime_import>/telemetry`,
   * which needs the peer dependency `@opentelemetry/api`). Option
   * `telemetry`, default `true`; `false` generates code that never loads
   * OpenTelemetry.
   */
  readonly telemetry: boolean;
  /**
   * Emit `<file>_validate.ts` validators from buf.validate rules, and make
   * generated servers validate requests. Option `validate`, default `true`.
   */
  readonly validate: boolean;
  /**
   * What to do with rules that cannot hold (bad CEL, a rule of the wrong
   * type, an invalid regex): `error` (default) fails generation naming the
   * file and element; `runtime_error` generates a validator that returns
   * `{ kind: "error" }` (protovalidate's behaviour; used by the conformance
   * run). Option `invalid_rules`.
   */
  readonly invalidRules: "error" | "runtime_error";
}

export const defaultOptions: GrpckitOptions = {
  server: true,
  client: true,
  runtimeImport: "@grpckit/runtime",
  telemetry: true,
  validate: true,
  invalidRules: "error",
};

type RawOption = { key: string; value: string };
type Parser = (value: string, key: string) => Partial<GrpckitOptions>;

const parsers: Record<string, Parser> = {
  server: (v, k) => ({ server: parseBool(v, k) }),
  client: (v, k) => ({ client: parseBool(v, k) }),
  runtime_import: (v, k) => ({ runtimeImport: parseModuleSpecifier(v, k) }),
  validate: (v, k) => ({ validate: parseBool(v, k) }),
  invalid_rules: (v, k) => {
    if (v === "error" || v === "runtime_error") return { invalidRules: v };
    throw new Error(`option "${k}" takes error or runtime_error, not "${v}"`);
  },
  telemetry: (v, k) => ({ telemetry: parseBool(v, k) }),
};

/**
 * Parse the options protoplugin did not recognise. Throws an Error naming the
 * key on an unknown key, a repeated key or a bad value; protoplugin turns it
 * into a PluginOptionError, reported in the CodeGeneratorResponse `error`.
 */
export function parseOptions(raw: readonly RawOption[]): GrpckitOptions {
  const seen = new Set<string>();
  let options: GrpckitOptions = { ...defaultOptions };
  for (const { key, value } of raw) {
    const parse = parsers[key];
    if (parse === undefined && key in removedResilienceOptions) throw removedResilienceOptionError(key);
    if (parse === undefined) {
      const known = Object.keys(parsers).sort().join(", ");
      throw new Error(`unknown option "${key}" (protoc-gen-grpckit options: ${known}; plus protoplugin's target, import_extension, js_import_style, rewrite_imports, keep_empty_files, ts_nocheck)`);
    }
    if (seen.has(key)) throw new Error(`option "${key}" is given more than once`);
    seen.add(key);
    const parsed = parse(value, key);
    options = { ...options, ...parsed };
  }
  if (!options.server && !options.client) {
    throw new Error(`options "server=false" and "client=false" together leave nothing to generate`);
  }
  return Object.freeze(options);
}

function parseBool(value: string, key: string): boolean {
  switch (value) {
    case "":
    case "true":
    case "1":
      return true;
    case "false":
    case "0":
      return false;
  }
  throw new Error(`option "${key}" takes true or false, not "${value}"`);
}

/** A bare package specifier: an optionally scoped npm package name, then optional subpath segments; no empty, "." or ".." segment. */
const packageSpecifier = /^(@[A-Za-z0-9~-][A-Za-z0-9._~-]*\/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*(\/[A-Za-z0-9~-][A-Za-z0-9._~-]*)*$/;

/**
 * A package specifier whose `/validate` and `/telemetry` subpaths resolve too
 * (generated code imports `<runtime_import>/validate` and
 * `<runtime_import>/telemetry`): no relative or absolute file path.
 */
function parseModuleSpecifier(value: string, key: string): string {
  const bad = !packageSpecifier.test(value) || /\.[cm]?[jt]s$/.test(value);
  if (bad) {
    throw new Error(
      `option "${key}" takes a package specifier such as "@grpckit/runtime" or "@acme/grpckit-runtime" (its /validate and /telemetry subpaths must resolve too), not "${value}"`,
    );
  }
  return value;
}
