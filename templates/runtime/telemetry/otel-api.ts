// A namespace import: a bundle banner that declares its own `createRequire` (a common esbuild
// recipe) cannot collide with it.
import * as nodeModule from "node:module";
import type * as OtelApi from "@opentelemetry/api";

/** The optional peer dependency the telemetry subpath runs on. */
export const otelApiPackage = "@opentelemetry/api";

/**
 * The error thrown when `@grpckit/runtime/telemetry` is loaded (generated code
 * with `telemetry=true`, the default, imports it) in a project without
 * `@opentelemetry/api`: it names the package and the plugin option that
 * generates code without OpenTelemetry.
 */
export function missingOtelApiError(cause: unknown): Error {
  return new Error(
    `@grpckit/runtime/telemetry needs the package "${otelApiPackage}", which cannot be found: ` +
      `install it (npm install ${otelApiPackage}@~1.9.0, a range the OpenTelemetry SDK packages accept), ` +
      `or regenerate with the protoc-gen-grpckit option telemetry=false to get code that does not load OpenTelemetry`,
    { cause },
  );
}

/**
 * Load `@opentelemetry/api` with `require` (its Node entry point is CommonJS
 * in both module systems, so this is the copy an ESM `import` gets too), so
 * that a missing package is an Error naming the fix rather than the
 * loader's `Cannot find package`. The CommonJS build of this file is the same
 * with the module URL replaced by `__filename` (scripts/build.mjs).
 */
function loadOtelApi(): typeof OtelApi {
  // @ts-ignore TS1343 in the CommonJS build only, where scripts/build.mjs replaces the module URL.
  const load = nodeModule.createRequire(import.meta.url);
  try {
    return load(otelApiPackage) as typeof OtelApi;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing = code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND";
    if (missing && String((err as Error).message).includes(otelApiPackage)) throw missingOtelApiError(err);
    throw err;
  }
}

/** The `@opentelemetry/api` module (its values; types are imported from the package as types only). */
export const otel: typeof OtelApi = loadOtelApi();
