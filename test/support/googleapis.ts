import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { bin, pluginBin, protocInclude, root, scratch } from "./paths.js";

const run = promisify(execFile);

/** The googleapis protos of the npm package `google-proto-files`. */
export const googleProtos = join(root, "node_modules", "google-proto-files");

/** Files per protoc run: protoplugin's cost grows faster than linearly with the request, so big batches are slow. */
const batchSize = 400;

/**
 * Every `.proto` under `google-proto-files/google/` whose text declares a
 * service (a cheap text scan; the descriptors decide in the end), relative to
 * the package root, sorted.
 */
export function findServiceProtos(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".proto") && /^\s*service\s+\w+\s*\{/m.test(readFileSync(p, "utf8"))) {
        found.push(relative(googleProtos, p).split(sep).join("/"));
      }
    }
  };
  walk(join(googleProtos, "google"));
  return found;
}

/**
 * Compile `files` and their imports with the real protoc into one
 * FileDescriptorSet with source info (comments), written to `out`.
 */
export function buildDescriptorSet(files: readonly string[], out: string): FileDescriptorSet {
  execFileSync(
    bin("protoc"),
    [`-I${googleProtos}`, `-I${protocInclude}`, "--include_imports", "--include_source_info", `--descriptor_set_out=${out}`, ...files],
    { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 },
  );
  return fromBinary(FileDescriptorSetSchema, readFileSync(out));
}

/** Split into batches of at most `size`, keeping the given (sorted) order so a directory stays together. */
export function batches<T>(items: readonly T[], size = batchSize): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Run protoc on each batch from the descriptor set (`--descriptor_set_in`, no
 * re-parsing), with as many protoc processes at once as there are cores.
 * `plugin` is `es` or `grpckit`.
 */
export async function generateBatches(set: string, plugin: "es" | "grpckit", opt: string, files: readonly string[][], out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const exe = plugin === "es" ? bin("protoc-gen-es") : pluginBin;
  const queue = [...files];
  const worker = async () => {
    for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
      const args = [`--descriptor_set_in=${set}`, `--plugin=protoc-gen-${plugin}=${exe}`, `--${plugin}_out=${out}`, `--${plugin}_opt=${opt}`, ...batch];
      try {
        await run(bin("protoc"), args, { maxBuffer: 64 * 1024 * 1024 });
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? "";
        throw new Error(`protoc-gen-${plugin} failed on a batch starting with ${batch[0]}:\n${stderr}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), 4)) }, worker));
}

/**
 * protoc-gen-es `target=dts` output for `files`, cached under tmp/ by the
 * versions of protoc, protoc-gen-es and google-proto-files and the file list:
 * that output does not depend on this plugin, and it is the slow part
 * (google/cloud/compute alone takes protoc-gen-es over a minute).
 * Returns the cache folder.
 */
export async function cachedEsDeclarations(set: string, files: readonly string[]): Promise<string> {
  const version = (pkg: string) => (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  const key = createHash("sha256")
    .update(JSON.stringify([version("protoc"), version("@bufbuild/protoc-gen-es"), version("google-proto-files"), "target=dts", files]))
    .digest("hex")
    .slice(0, 16);
  const dir = join(scratch, `googleapis-es-${key}`);
  const complete = join(dir, ".complete");
  if (existsSync(complete)) return dir;
  rmSync(dir, { recursive: true, force: true });
  await generateBatches(set, "es", "target=dts", batches(files), dir);
  writeFileSync(complete, "");
  return dir;
}
