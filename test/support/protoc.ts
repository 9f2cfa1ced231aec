import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { bin, pluginBin, protocInclude, scratch } from "./paths.js";

export interface ProtocRun {
  /** Folder(s) passed as -I. */
  readonly includes: readonly string[];
  /** Proto files to generate, relative to an include folder. */
  readonly files: readonly string[];
  /** Parameter for protoc-gen-grpckit, e.g. "target=ts". */
  readonly grpckitOpt?: string;
  /** Parameter for protoc-gen-es; defaults to grpckitOpt. Set to null to skip protoc-gen-es. */
  readonly esOpt?: string | null;
  /** Output folder; a fresh one under tmp/ by default. */
  readonly out?: string;
  /** Extra protoc arguments, e.g. ["--descriptor_set_in=..."]. */
  readonly extraArgs?: readonly string[];
}

/** Run the real protoc with protoc-gen-es and protoc-gen-grpckit. Returns the output folder. */
export function runProtoc(run: ProtocRun): string {
  const out = run.out ?? freshDir("protoc-");
  mkdirSync(out, { recursive: true });
  const args = [...run.includes.map((i) => `-I${i}`), `-I${protocInclude}`];
  const esOpt = run.esOpt === undefined ? run.grpckitOpt ?? "" : run.esOpt;
  if (esOpt !== null) {
    args.push(`--plugin=protoc-gen-es=${bin("protoc-gen-es")}`, `--es_out=${out}`, `--es_opt=${esOpt}`);
  }
  args.push(`--plugin=protoc-gen-grpckit=${pluginBin}`, `--grpckit_out=${out}`, `--grpckit_opt=${run.grpckitOpt ?? ""}`);
  args.push(...(run.extraArgs ?? []), ...run.files);
  execFileSync(bin("protoc"), args, { stdio: ["ignore", "pipe", "pipe"] });
  return out;
}

/**
 * Ask the real protoc for the CodeGeneratorRequest it would send a plugin
 * (captured by a tiny plugin that writes its stdin to a file).
 */
export function captureRequest(includes: readonly string[], files: readonly string[], parameter = ""): Uint8Array {
  const dir = freshDir("capture-");
  const target = join(dir, "request.bin");
  const capture = join(dir, "protoc-gen-capture");
  writeFileSync(
    capture,
    `#!/usr/bin/env node\nimport { writeFileSync } from "node:fs";\nconst c = [];\nprocess.stdin.on("data", (d) => c.push(d));\nprocess.stdin.on("end", () => writeFileSync(${JSON.stringify(target)}, Buffer.concat(c)));\n`,
    { mode: 0o755 },
  );
  const args = [...includes.map((i) => `-I${i}`), `-I${protocInclude}`, `--plugin=protoc-gen-capture=${capture}`, `--capture_out=${dir}`];
  if (parameter !== "") args.push(`--capture_opt=${parameter}`);
  execFileSync(bin("protoc"), [...args, ...files], { stdio: ["ignore", "pipe", "pipe"] });
  return readFileSync(target);
}

/** A new empty folder under tmp/. */
export function freshDir(prefix: string): string {
  mkdirSync(scratch, { recursive: true });
  return mkdtempSync(join(scratch, prefix));
}

/** Every file below a folder, as a map from relative path (with /) to content, sorted by path. */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p).split("\\").join("/"), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return files;
}
