// h2load (nghttp2-client) as a gRPC load generator over h2c: installing it,
// running it on one core, and reading its summary and per-request log.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** True when `cmd` is on the PATH. */
export function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/**
 * Make sure h2load is installed: `apt-get install -y nghttp2-client` when it
 * is missing (after `apt-get update` if the first try fails). Returns the
 * `h2load --version` line.
 *
 * @throws Error with install instructions when it cannot be installed.
 */
export function ensureH2load() {
  if (!have("h2load")) {
    console.log("h2load not found: apt-get install -y nghttp2-client");
    const install = () => spawnSync("apt-get", ["install", "-y", "nghttp2-client"], { stdio: "inherit" }).status === 0;
    if (!install()) {
      spawnSync("apt-get", ["update"], { stdio: "inherit" });
      install();
    }
    if (!have("h2load")) {
      throw new Error("h2load is missing and could not be installed; install the Debian/Ubuntu package nghttp2-client (apt-get install -y nghttp2-client) and run again");
    }
  }
  return execFileSync("h2load", ["--version"], { encoding: "utf8" }).split("\n")[0].trim();
}

/**
 * One h2load run: `streams` concurrent gRPC calls on one connection for
 * `seconds` (or, when `requests` is given, until that many calls are done), each a POST of the length-prefixed message in `bodyFile` to
 * `url` with `content-type: application/grpc` and `te: trailers` (plus
 * `grpc-timeout: <timeout>` when `timeout` is given, e.g. "10S"); h2load
 * pinned to `core` with taskset when available. Resolves to
 * `{ done, succeeded, failed, dataBytes, seconds, latenciesUs }`: request
 * counts from h2load's summary, the DATA bytes it received, the run's
 * duration in s, and each finished request's time to the end of its response
 * in µs (from `--log-file`).
 *
 * @throws Error if h2load exits non-zero or its summary cannot be parsed.
 */
export function runH2load({ url, bodyFile, streams, seconds, requests, logFile, core, timeout }) {
  const amount = requests === undefined ? ["-D", `${Math.round(seconds * 1000)}ms`] : ["-n", String(requests)];
  const args = [
    "-c", "1", "-t", "1", "-m", String(streams), ...amount,
    "-d", bodyFile, "-H", "content-type: application/grpc", "-H", "te: trailers",
    ...(timeout === undefined ? [] : ["-H", `grpc-timeout: ${timeout}`]),
    `--log-file=${logFile}`, url,
  ];
  const [cmd, argv] = core !== undefined && have("taskset") ? ["taskset", ["-c", String(core), "h2load", ...args]] : ["h2load", args];
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`h2load failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  const out = r.stdout;
  const counts = out.match(/requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/);
  const traffic = out.match(/traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?\((\d+)\) data/);
  const finished = out.match(/finished in ([\d.]+)(ms|s)/);
  if (!counts || !traffic || !finished) throw new Error(`cannot parse h2load output:\n${out}`);
  const latenciesUs = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const cols = line.split("\t");
    if (cols.length >= 3 && cols[1].startsWith("2")) latenciesUs.push(Number(cols[2]));
  }
  rmSync(logFile, { force: true });
  return {
    done: Number(counts[3]),
    succeeded: Number(counts[4]),
    failed: Number(counts[5]) + Number(counts[6]),
    dataBytes: Number(traffic[3]),
    seconds: Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1),
    latenciesUs,
  };
}

/**
 * `runH2load` of one bench scenario (`{ name, body: { path, file }, streams }`)
 * against one echo server (`{ label, port }`), its log file in `logDir`;
 * `amount` is `{ seconds }` or `{ requests }`, plus `core` and `timeout` as for `runH2load`.
 */
export function runScenario(server, scenario, { logDir, ...amount }) {
  return runH2load({
    url: `http://127.0.0.1:${server.port}/bench.v1.EchoService/${scenario.body.path}`,
    bodyFile: scenario.body.file,
    streams: scenario.streams,
    logFile: join(logDir, `${server.label}-${scenario.name}.log`),
    ...amount,
  });
}
