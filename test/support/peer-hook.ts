import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./paths.js";
import { freshDir } from "./protoc.js";

/**
 * A `--require` preload script for child node processes: records in `globalThis.__peerLoads`
 * every resolution of the given package names, and with `PEER_HIDE=name,name` makes them
 * unresolvable (MODULE_NOT_FOUND, Node's own message shape), as if not installed.
 * Returns the script's path.
 */
export function writePeerHook(names: readonly string[]): string {
  const path = join(freshDir("peer-hook-"), "peer-hook.cjs");
  writeFileSync(
    path,
    `const Module = require("node:module");
const names = ${JSON.stringify(names)};
const hidden = (process.env.PEER_HIDE || "").split(",");
globalThis.__peerLoads = [];
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (names.includes(request)) {
    globalThis.__peerLoads.push(request);
    if (hidden.includes(request)) {
      const err = new Error("Cannot find module '" + request + "'");
      err.code = "MODULE_NOT_FOUND";
      throw err;
    }
  }
  return resolve.call(this, request, ...rest);
};
`,
  );
  return path;
}

/**
 * Run `body` (top-level-await code that prints one JSON line) in a child node process with the
 * built `@grpckit/runtime/production` as `production` and `@grpc/grpc-js` as `grpc`, from the
 * ESM or the CommonJS build, with the hook of {@link writePeerHook} preloaded and the packages of
 * `hide` made unresolvable. Returns the parsed line.
 */
export function runProductionScript(hook: string, kind: "esm" | "cjs", body: string, hide = ""): unknown {
  const script =
    kind === "esm"
      ? `import * as production from "@grpckit/runtime/production"; import * as grpc from "@grpc/grpc-js";${body}`
      : `const production = require("@grpckit/runtime/production"); const grpc = require("@grpc/grpc-js"); (async () => {${body}})().catch((e) => { console.error(e); process.exit(1); });`;
  const args = ["--require", hook, ...(kind === "esm" ? ["--input-type=module"] : []), "-e", script];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, PEER_HIDE: hide } }));
}
