import { join } from "node:path";
import { root } from "./paths.js";
import { runProtoc } from "./protoc.js";

/** The folder of bundled test protos. */
export const fixtures = join(root, "testdata", "fixtures");

/**
 * Generate protoc-gen-es and protoc-gen-grpckit output (target=ts) for
 * fixture protos into a fresh folder; import the result with `await import()`.
 */
export function generateFixtures(files: readonly string[], grpckitOpt = "target=ts"): string {
  return runProtoc({ includes: [fixtures], files, grpckitOpt, esOpt: "target=ts" });
}
