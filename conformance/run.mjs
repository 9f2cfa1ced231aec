// npm run conformance [-- --strict_message --strict_error --suite REGEX ...]
// Generates the validators for the conformance cases, then runs the shared
// checker with conformance/impl.mjs. Exit status: the checker's.
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateConformance } from "./generate.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const data = process.env.PROTOVALIDATE_CONFORMANCE ?? join(root, "../shared/protovalidate-conformance");
const gen = generateConformance(join(data, "cases.binpb"));
const r = spawnSync(process.execPath, [join(data, "check-reference.mjs"), "--impl", join(root, "conformance/impl.mjs"), ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, GRPCKIT_CONFORMANCE_GEN: gen },
});
process.exit(r.status ?? 1);
