// Set-up for bench/server-overhead.mjs: code generation of the bench echo
// service, the optional nice-grpc peer, request bodies, server processes and
// a gRPC status check of each server with a grpc-js client.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Client, credentials } from "@grpc/grpc-js";
import { have } from "./h2load.mjs";

/**
 * Generate bench/server/echo.proto with protoc-gen-es and the plugin in bin/
 * (default options: target=js only) into a fresh folder under `root`/tmp, so
 * that `@grpckit/runtime` resolves to this package's built runtime. Returns
 * the folder of `echo_pb.js` / `echo_grpckit.js`.
 */
export function generateEcho(root) {
  const bin = (n) => join(root, "node_modules", ".bin", n);
  mkdirSync(join(root, "tmp"), { recursive: true });
  const out = mkdtempSync(join(root, "tmp", "bench-server-"));
  const files = [];
  const visit = (f) => {
    if (files.includes(f)) return;
    f.dependencies.forEach(visit);
    files.push(f);
  };
  visit(file_buf_validate_validate);
  const set = join(out, "buf-validate.binpb");
  writeFileSync(set, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) })));
  const opt = "target=js,import_extension=js";
  execFileSync(bin("protoc"), [
    `-I${join(root, "bench", "server")}`, `--descriptor_set_in=${set}`,
    `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`, `--es_out=${out}`, `--es_opt=${opt}`,
    `--plugin=protoc-gen-grpckit=${join(root, "bin", "protoc-gen-grpckit")}`, `--grpckit_out=${out}`, `--grpckit_opt=${opt}`,
    "echo.proto", "buf/validate/validate.proto",
  ]);
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
  return out;
}

/**
 * nice-grpc `version`, installed with `npm install --no-save` into
 * `root`/tmp/bench-server-peer (the project's package.json and lock stay
 * untouched). Returns that folder, or undefined (with a printed note) when
 * the install fails.
 */
export function installNiceGrpc(root, version) {
  const dir = join(root, "tmp", "bench-server-peer");
  const installed = join(dir, "node_modules", "nice-grpc", "package.json");
  if (existsSync(installed) && JSON.parse(readFileSync(installed, "utf8")).version === version) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true }));
  const r = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `nice-grpc@${version}`], { cwd: dir, stdio: "ignore", timeout: 180_000 });
  if (r.status !== 0 || !existsSync(installed)) {
    console.log(`note: nice-grpc@${version} could not be installed into ${dir}; skipping the nice-grpc peer`);
    return undefined;
  }
  return dir;
}

/** A gRPC length-prefixed message (uncompressed) of `bytes`. */
export function lengthPrefixed(bytes) {
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/**
 * Start bench/server/serve.mjs for `kind` pinned to `core` (taskset), with
 * a CPU profile written to `profileFile` if given (from `profileStart()` to
 * `stop()`), and node run under `wrapper` (a command prefix, e.g. valgrind)
 * with `nodeArgs` (flags before the script, e.g. `--perf-basic-prof`) if given. Resolves to `{ kind, label, port, pid, cpuUs(), threadTimes(), profileStart(), stop() }`:
 * `cpuUs()` resolves to the process's user + system CPU time in µs so far,
 * `threadTimes()` returns its per-thread split (see {@link threadTimes}),
 * `stop()` to its exit.
 */
export function startServer({ kind, label = kind, root, genDir, peerDir, core, profileFile, wrapper = [], nodeArgs = [] }) {
  const script = join(root, "bench", "server", "serve.mjs");
  const node = [...wrapper, process.execPath, ...nodeArgs, script, kind, genDir, peerDir ?? "", ...(profileFile ? [profileFile] : [])];
  const [cmd, argv] = have("taskset") ? ["taskset", ["-c", String(core), ...node]] : [node[0], node.slice(1)];
  const child = spawn(cmd, argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let waiting;
  child.on("message", (m) => waiting?.resolve(m));
  child.on("exit", (code) => waiting?.reject(new Error(`${label} server exited (${code})`)));
  const next = () => new Promise((resolve, reject) => {
    waiting = { resolve, reject };
  });
  return next().then(({ port }) => ({
    kind,
    label,
    port,
    pid: child.pid,
    cpuUs: async () => {
      const reply = next();
      child.send("cpu");
      const { cpu } = await reply;
      return cpu.user + cpu.system;
    },
    threadTimes: () => threadTimes(child.pid),
    profileStart: () => child.send("profile-start"),
    stop: () => new Promise((resolve) => {
      waiting = { resolve, reject: resolve };
      child.send("stop");
    }),
  }));
}

/** CPU time in µs and voluntary context switches of a process so far, its main thread apart from the others (Linux /proc). */
export function threadTimes(pid) {
  const t = { mainUs: 0, otherUs: 0, switches: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    if (tid === String(pid)) t.mainUs += ns / 1000;
    else t.otherUs += ns / 1000;
    t.switches += Number(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8").match(/^voluntary_ctxt_switches:\s+(\d+)/m)[1]);
  }
  return t;
}

/** A grpc-js client of the echo service on `port`, with its unary call as a promise of `{ code, res }` (res: the raw response bytes). */
function echoClient(port, pb) {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const ser = (m) => Buffer.from(toBinary(pb.EchoRequestSchema, m));
  const de = (b) => b;
  const unary = (req) => new Promise((resolve) => {
    client.makeUnaryRequest("/bench.v1.EchoService/Echo", ser, de, create(pb.EchoRequestSchema, req), (err, res) => resolve({ code: err?.code ?? 0, res }));
  });
  return { client, ser, de, unary };
}

/**
 * One grpc-js client call of each method to a server, so that the h2load
 * runs (which only see HTTP 200) are known to end with grpc-status 0.
 * Resolves to a one-line summary.
 *
 * @throws Error naming the server and method on an unexpected status or response.
 */
export async function checkServer(port, pb, { payload, count }) {
  const { client, ser, de, unary } = echoClient(port, pb);
  try {
    const u = await unary({ payload });
    if (u.code !== 0) throw new Error(`Echo: grpc-status ${u.code}`);
    const frames = await new Promise((resolve, reject) => {
      const got = [];
      const call = client.makeServerStreamRequest("/bench.v1.EchoService/Expand", ser, de, create(pb.EchoRequestSchema, { payload, count }));
      call.on("data", (b) => got.push(b));
      call.on("error", (e) => reject(new Error(`Expand: grpc-status ${e.code}`)));
      call.on("status", (s) => s.code === 0 && resolve(got));
    });
    if (frames.length !== count) throw new Error(`Expand: ${frames.length} messages, expected ${count}`);
    return `Echo OK (${u.res.length} B), Expand OK (${frames.length} messages)`;
  } finally {
    client.close();
  }
}

/**
 * Check that a generated server validates requests: Echo with count = -1
 * must answer INVALID_ARGUMENT (3). The benches run this after their
 * measured calls: the answer carries a google.rpc.Status with a BadRequest
 * detail, and encoding those messages through the same @bufbuild/protobuf
 * `toBinary` call sites as the echo responses makes those sites
 * megamorphic in that server's process only (the plain grpc-js server never
 * encodes them), which cost the generated server 1.5-4% more instructions
 * per call in the measured runs (bench/server/PROFILE.md).
 *
 * @throws Error naming the server's status if it is not INVALID_ARGUMENT.
 */
export async function checkValidation(port, pb, { payload }) {
  const { client, unary } = echoClient(port, pb);
  try {
    const bad = await unary({ payload, count: -1 });
    if (bad.code !== 3) throw new Error(`Echo with count=-1: grpc-status ${bad.code}, expected 3 (validation on)`);
    return "count=-1 -> INVALID_ARGUMENT (validation on)";
  } finally {
    client.close();
  }
}

/** Whether a bench server kind is a generated server (validates requests). */
export function validates(kind) {
  return kind !== "plain" && kind !== "nice";
}
