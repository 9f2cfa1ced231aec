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
   * `runtime_import`, default `protoc-gen-grpckit/runtime`.
   */
  readonly runtimeImport: string;
}

export const defaultOptions: GrpckitOptions = {
  server: true,
  client: true,
  runtimeImport: "protoc-gen-grpckit/runtime",
};

type RawOption = { key: string; value: string };
type Parser = (value: string, key: string) => Partial<GrpckitOptions>;

const parsers: Record<string, Parser> = {
  server: (v, k) => ({ server: parseBool(v, k) }),
  client: (v, k) => ({ client: parseBool(v, k) }),
  runtime_import: (v, k) => ({ runtimeImport: parseModuleSpecifier(v, k) }),
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
    if (parse === undefined) {
      const known = Object.keys(parsers).sort().join(", ");
      throw new Error(`unknown option "${key}" (protoc-gen-grpckit options: ${known}; plus protoplugin's target, import_extension, js_import_style, rewrite_imports, keep_empty_files, ts_nocheck)`);
    }
    if (seen.has(key)) throw new Error(`option "${key}" is given more than once`);
    seen.add(key);
    options = { ...options, ...parse(value, key) };
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

function parseModuleSpecifier(value: string, key: string): string {
  if (value.trim() === "" || /[\s"'`\\]/.test(value)) {
    throw new Error(`option "${key}" takes a module specifier such as "protoc-gen-grpckit/runtime", not "${value}"`);
  }
  return value;
}
