import { writeFileSync } from "node:fs";
import { join } from "node:path";
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
