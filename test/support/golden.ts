import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { root } from "./paths.js";
import { readTree } from "./protoc.js";

/** Folder of golden cases: one folder per scenario. */
export const goldenRoot = join(root, "testdata", "golden");
/** Folder of the proto inputs the cases share. */
export const goldenProtos = join(root, "testdata", "protos");
/** The command that rewrites the golden files. */
export const updateCommand = "npm run test:update-golden";

/**
 * One golden case: `testdata/golden/<name>/parameter.txt` (the plugin
 * parameter, one line), `inputs.txt` (proto files relative to
 * testdata/protos, one a line) and `expected/` (the exact output).
 */
export interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly parameter: string;
  readonly inputs: readonly string[];
}

export function listGoldenCases(): GoldenCase[] {
  return readdirSync(goldenRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(goldenRoot, name);
      const lines = (f: string) =>
        readFileSync(join(dir, f), "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"));
      return { name, dir, parameter: lines("parameter.txt")[0] ?? "", inputs: lines("inputs.txt") };
    });
}

/** The expected files of a case (empty map when none were written yet). */
export function readExpected(c: GoldenCase): Map<string, string> {
  const dir = join(c.dir, "expected");
  return existsSync(dir) ? readTree(dir) : new Map();
}

/** Replace a case's expected files. Refused in CI: goldens change only by a reviewed commit. */
export function writeExpected(c: GoldenCase, files: Map<string, string>): void {
  if (process.env["CI"]) throw new Error(`refusing to rewrite golden files when CI is set (${c.name})`);
  const dir = join(c.dir, "expected");
  rmSync(dir, { recursive: true, force: true });
  for (const [name, content] of files) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** A small line diff for failure messages: the first differing lines with context. */
export function describeDiff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let ea = a.length - 1;
  let eb = b.length - 1;
  while (ea >= i && eb >= i && a[ea] === b[eb]) {
    ea--;
    eb--;
  }
  const out: string[] = [`@@ line ${i + 1} @@`];
  for (let k = Math.max(0, i - 3); k < i; k++) out.push(`  ${a[k]}`);
  for (let k = i; k <= ea && k < i + 40; k++) out.push(`- ${a[k]}`);
  for (let k = i; k <= eb && k < i + 40; k++) out.push(`+ ${b[k]}`);
  for (let k = ea + 1; k < Math.min(a.length, ea + 4); k++) out.push(`  ${a[k]}`);
  return out.join("\n");
}
