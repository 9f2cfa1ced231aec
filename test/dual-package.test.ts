import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { root } from "./support/paths.js";

/**
 * The ESM and the CommonJS builds of @grpckit/runtime loaded in one process
 * (a dual-package situation: an ESM app with a CJS dependency that also uses
 * the runtime). Runs in a child `node` (vitest aliases the package to its
 * sources), which imports the built package by name with import() and
 * createRequire(), so both export conditions are used.
 */
const runtimeDir = join(root, "templates/runtime");

/** Newest mtime of the runtime's sources (ms). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "dist" || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

interface ChildResult {
  paths: { esm: string; cjs: string };
  distinctClasses: boolean;
  cjsServer_esmError: { code: number; message: string; same: boolean };
  esmServer_cjsError: { code: number; message: string; same: boolean };
  instanceofAcross: boolean[];
  subclass: boolean[];
  propagation: { upstream: number; downstream: number | null };
}

describe("dual package: ESM and CJS builds in one process", { timeout: 60_000 }, () => {
  let result: ChildResult;
  beforeAll(() => {
    const built = join(runtimeDir, "dist/esm/index.js");
    const cjsBuilt = join(runtimeDir, "dist/cjs/index.js");
    const stale = !existsSync(built) || !existsSync(cjsBuilt) || Math.min(statSync(built).mtimeMs, statSync(cjsBuilt).mtimeMs) < newestSource(runtimeDir);
    if (stale) execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "ignore" });
    const out = execFileSync(process.execPath, ["test/support/dual-package-child.mjs"], { cwd: root, encoding: "utf8", timeout: 50_000 });
    result = JSON.parse(out.trim().split("\n").at(-1) as string) as ChildResult;
  }, 300_000);

  it("loads two distinct copies: dist/esm through import(), dist/cjs through require()", () => {
    expect(result.paths.esm).toMatch(/templates\/runtime\/dist\/esm\/index\.js$/);
    expect(result.paths.cjs).toMatch(/templates\/runtime\/dist\/cjs\/index\.js$/);
    expect(result.distinctClasses).toBe(true);
  });

  it("a handler registered with one copy that throws the other copy's GrpcError answers that code and message, not INTERNAL", () => {
    expect(result.cjsServer_esmError).toEqual({ code: 5, message: "made by esm", same: true });
    expect(result.esmServer_cjsError).toEqual({ code: 5, message: "made by cjs", same: true });
  });

  it("instanceof and isGrpcError work across copies; a subclass keeps the prototype-chain test", () => {
    expect(result.instanceofAcross).toEqual([true, true, true]);
    expect(result.subclass).toEqual([true, false, false]);
  });

  it("deadline propagation works across copies: a CJS-registered handler's ESM client inherits its deadline", () => {
    const { upstream, downstream } = result.propagation;
    expect(upstream).toBeGreaterThan(Date.now() - 60_000);
    expect(downstream).not.toBeNull();
    expect(Math.abs((downstream as number) - upstream)).toBeLessThanOrEqual(50);
  });
});
