// The production example as a user runs it: `npm run example:production`
// and `npm run example:production:drive` as child processes (loopback),
// plaintext with a health probe port, and with mTLS made by openssl. Needs
// `npm run build` (the example runs @grpckit/runtime from dist).
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as production from "@grpckit/runtime/production";
import { createTestPki } from "./support/certs.js";
import { root } from "./support/paths.js";

/** True once the health module (branch wt-health) is merged: the example needs Health and reflection. */
const hasHealth = typeof (production as Record<string, unknown>)["addHealthService"] === "function";

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function npmRun(script: string, args: readonly string[]): Run {
  const child = spawn("npm", ["run", "--silent", script, "--", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
  child.stdout!.on("data", (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

async function waitForLine(run: Run, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = run.stdout.match(pattern);
    if (m) return m;
    if (run.child.exitCode !== null || Date.now() > end) throw new Error(`no ${pattern} in output; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const serverPids: number[] = [];
afterEach(() => {
  for (const pid of serverPids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL"); // only if a failed test left it running
    } catch {
      // already gone
    }
  }
});
const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** Start the example server, drive it, and return both outputs. */
async function startAndDrive(serverArgs: readonly string[], driveArgs: readonly string[]) {
  const server = npmRun("example:production", ["--port", "0", "--host", "127.0.0.1", ...serverArgs]);
  const [, port, pid] = await waitForLine(server, /listening on 127\.0\.0\.1:(\d+) .*pid (\d+)/);
  serverPids.push(Number(pid));
  const drive = npmRun("example:production:drive", ["--port", port!, "--host", "127.0.0.1", ...driveArgs]);
  const driveCode = await drive.exited;
  const serverCode = await server.exited;
  return { server, drive, driveCode, serverCode, port: Number(port) };
}

describe.skipIf(!hasHealth)("examples/production", () => {
  it("plaintext with a health probe port: health, reflection, each method kind, SIGTERM under load loses 0 of 50", async () => {
    const { server, drive, driveCode, serverCode } = await startAndDrive(["--health-port", "0"], []);
    expect(server.stdout).toMatch(/\(plaintext\), health probe \(plaintext\) on 127\.0\.0\.1:\d+, pid \d+/);
    expect(driveCode, drive.stderr).toBe(0);
    const out = drive.stdout;
    expect(out).toContain('health           "" -> SERVING');
    expect(out).toContain('health           "greet.v1.GreetService" -> SERVING');
    expect(out).toMatch(/reflection {7}services -> .*greet\.v1\.GreetService/);
    expect(out).toContain("unary            greet -> Hello, Ada!");
    expect(out).toContain("server streaming count -> 1 2 3");
    expect(out).toContain("client streaming tally -> 2 names: Ada, Grace");
    expect(out).toContain("bidi streaming   converse -> Hi Ada | Hi Grace");
    expect(out).toMatch(/SIGTERM sent to pid \d+ with 50 of 50 calls in flight on the server/);
    expect(out).toContain("drain            50 completed, 0 lost; a call after SIGTERM -> UNAVAILABLE");
    expect(out).toContain("drain            server process exited");
    expect(serverCode).toBe(0);
    const [, ms] = server.stdout.match(/shut down in (\d+) ms \(forced: false\)/) ?? [];
    expect(Number(ms)).toBeGreaterThan(0);
    console.log(`[production-example] plaintext: server drained in ${ms} ms`);
  });

  it("with mTLS from --tls-dir", async () => {
    const pki = createTestPki();
    const dir = mkdtempSync(join(tmpdir(), "grpckit-prod-tls-"));
    tmpDirs.push(dir, pki.dir);
    const serverCert = pki.issue("server", { cn: "server", sans: ["DNS:localhost", "IP:127.0.0.1"] });
    const clientCert = pki.issue("client", { cn: "driver", sans: ["DNS:driver"] });
    for (const [from, to] of [[serverCert.cert, "tls.crt"], [serverCert.key, "tls.key"], [pki.ca.cert, "ca.crt"], [clientCert.cert, "client.crt"], [clientCert.key, "client.key"]] as const) {
      copyFileSync(from, join(dir, to));
    }
    const { server, drive, driveCode, serverCode } = await startAndDrive(["--tls-dir", dir], ["--tls-dir", dir, "--calls", "20"]);
    expect(server.stdout).toMatch(/\(TLS\), pid \d+/);
    expect(driveCode, drive.stderr).toBe(0);
    expect(drive.stdout).toContain('health           "" -> SERVING');
    expect(drive.stdout).toContain("unary            greet -> Hello, Ada!");
    expect(drive.stdout).toContain("drain            20 completed, 0 lost; a call after SIGTERM -> UNAVAILABLE");
    expect(serverCode).toBe(0);
  });
});
