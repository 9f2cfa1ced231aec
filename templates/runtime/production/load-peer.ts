// A namespace import: a bundle banner that declares its own `createRequire` (a common esbuild
// recipe) cannot collide with it.
import * as nodeModule from "node:module";

/**
 * Load an optional peer package (`grpc-health-check`, `@grpc/reflection`) synchronously, on
 * first use, resolved from this file's location (as a static import would be). One source for
 * both builds: the CommonJS build uses its module's `require`; the ESM build, which has no
 * `require` and whose `import.meta` the CommonJS build cannot contain, makes one with
 * `createRequire()` from this module's own file, read from V8's structured stack trace.
 *
 * Errors: throws an Error naming the package to install (`npm install <name>`) when `name`
 * is not installed; other load errors propagate.
 * @internal
 */
export function loadPeer(name: string, purpose: string): unknown {
  try {
    return localRequire()(name);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "MODULE_NOT_FOUND" && String(e.message).includes(`'${name}'`)) {
      throw new Error(`${purpose} needs the optional peer dependency "${name}": npm install ${name}`, { cause: err });
    }
    throw err;
  }
}

let cached: NodeJS.Require | undefined;

function localRequire(): NodeJS.Require {
  cached ??= typeof require === "function" ? require : nodeModule.createRequire(ownFile());
  return cached;
}

/** The path or file URL of this module (the frame of this function in a structured stack trace). */
function ownFile(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder);
    const file = holder.stack?.[0]?.getFileName();
    if (file === undefined || file === null) throw new Error("cannot locate @grpckit/runtime/production to load its optional peers");
    return file;
  } finally {
    Error.prepareStackTrace = original;
  }
}
