import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { root } from "./paths.js";
import { freshDir, runProtoc } from "./protoc.js";

/** Debian's grpc-proto package (`/usr/share/grpc-proto`): health and reflection protos. */
export const debianGrpcProto = "/usr/share/grpc-proto";
/** grpc-health-check's own health.proto (newer than Debian's: it has List). */
export const healthCheckProtoDir = join(root, "node_modules", "grpc-health-check", "proto");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Generated = any;

/**
 * Generate (real protoc, protoc-gen-es and protoc-gen-grpckit, target=ts) Debian's
 * `grpc/health/v1/health.proto` plus inline `protos` (path -> text) in one run; returns the folder.
 */
export function generateWithDebianProtos(files: readonly string[], protos: Readonly<Record<string, string>> = {}): string {
  const src = freshDir("grpc-proto-src-");
  for (const [name, text] of Object.entries(protos)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  return runProtoc({ includes: [src, debianGrpcProto], files: [...files, ...Object.keys(protos)], grpckitOpt: "target=ts", esOpt: "target=ts" });
}

/** Generate grpc-health-check's health.proto (Check, Watch, List); returns the folder. */
export function generateLibraryHealthProto(): string {
  return runProtoc({ includes: [healthCheckProtoDir], files: ["health/v1/health.proto"], grpckitOpt: "target=ts", esOpt: "target=ts" });
}
