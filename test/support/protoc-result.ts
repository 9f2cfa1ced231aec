import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { bin, pluginBin, protocInclude } from "./paths.js";
import { freshDir } from "./protoc.js";

/** Write inline proto sources (path -> text) into a fresh folder under tmp/; returns the folder. */
export function writeProtos(files: Record<string, string>): string {
  const dir = freshDir("protos-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The outcome of a protoc run that may fail. */
export interface ProtocResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly out: string;
}

/**
 * Run the real protoc with protoc-gen-es and protoc-gen-grpckit into a fresh
 * folder without throwing on failure (unlike runProtoc).
 */
export function tryProtoc(includes: readonly string[], files: readonly string[], grpckitOpt = "target=ts"): ProtocResult {
  const out = freshDir("out-");
  const args = [
    ...includes.map((i) => `-I${i}`),
    `-I${protocInclude}`,
    `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
    `--es_out=${out}`,
    "--es_opt=target=ts",
    `--plugin=protoc-gen-grpckit=${pluginBin}`,
    `--grpckit_out=${out}`,
    `--grpckit_opt=${grpckitOpt}`,
    ...files,
  ];
  const r = spawnSync(bin("protoc"), args, { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr, out };
}
