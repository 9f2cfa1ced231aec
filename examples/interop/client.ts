/**
 * The interop test client: runs gRPC's interop test cases through the
 * generated clients against a server, printing one `PASS name` or
 * `FAIL name: reason` line per case. Exit status 0 when all pass, 1 when one
 * fails, 2 on bad arguments.
 *
 * Usage: npm run interop:client -- --server 127.0.0.1:50051 [--test_case empty_unary,large_unary|all]
 * (`--server_host` / `--server_port`, the flags of the interop descriptions, work too).
 */
import { parseArgs } from "node:util";
import { closeInteropClients, createInteropClients, interopCases } from "./test-cases.js";

const { values } = parseArgs({
  options: {
    server: { type: "string" },
    server_host: { type: "string", default: "127.0.0.1" },
    server_port: { type: "string" },
    test_case: { type: "string", default: "all" },
    use_tls: { type: "string", default: "false" },
    timeout_ms: { type: "string", default: "30000" },
  },
});

function usage(problem: string): never {
  console.error(`interop client: ${problem}\nusage: --server host:port [--test_case name,...|all]; cases: ${Object.keys(interopCases).join(", ")}`);
  process.exit(2);
}

if (values.use_tls !== "false") usage("--use_tls is not supported; plaintext only");
const address = values.server ?? (values.server_port !== undefined ? `${values.server_host}:${values.server_port}` : usage("--server is required"));
const names = values.test_case === "all" ? Object.keys(interopCases) : values.test_case.split(",").map((n) => n.trim());
const unknown = names.filter((n) => !(n in interopCases));
if (unknown.length > 0) usage(`unknown test case(s): ${unknown.join(", ")}`);
const caseTimeoutMs = Number(values.timeout_ms);

const clients = createInteropClients(address);
let failed = 0;
for (const name of names) {
  try {
    await withTimeout(interopCases[name]!(clients), caseTimeoutMs, name);
    console.log(`PASS ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
closeInteropClients(clients);
console.log(`${names.length - failed}/${names.length} passed against ${address}`);
process.exit(failed === 0 ? 0 : 1);

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
