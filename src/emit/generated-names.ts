import type { DescEnum, DescExtension, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { safeIdentifier } from "../es-plugin.js";

/**
 * The identifiers protoc-gen-es exports from the `_pb` file of one proto
 * file, as protoplugin's `importShape` / `importSchema` name them
 * (@bufbuild/protoplugin 2.x, `names.js`), computed in one linear pass.
 *
 * protoplugin recomputes all names of a file on every `importShape` /
 * `importSchema` call, so n calls on a file with n types cost O(n^2); this
 * computes them once (see shared/notes/protoplugin-performance.md).
 */
export interface GeneratedNames {
  /** The exported type of a message or enum (`User`, `User_Role`). */
  readonly shapes: ReadonlyMap<DescMessage | DescEnum, string>;
  /** The exported descriptor of a message or enum (`UserSchema`), extension or service (`UserService`). */
  readonly descs: ReadonlyMap<DescMessage | DescEnum | DescExtension | DescService, string>;
}

const cache = new WeakMap<DescFile, GeneratedNames>();

/**
 * The generated names of every message, enum, extension and service of
 * `file`, computed on the first call for a DescFile and then reused (the
 * names depend on the file alone, not on plugin options).
 *
 * The rules (protoc-gen-es v2):
 * - the base of a name is the type name without the package, dots replaced
 *   by `_` (`pkg.Outer.Inner` -> `Outer_Inner`);
 * - shapes (messages and enums) are named first, in `nestedTypes` order,
 *   with the base itself; then descriptors, in the same order after the
 *   file's own `file_<path>` descriptor: messages and enums `<base>Schema`,
 *   extensions and services `<base>`;
 * - a name is passed through protoplugin's `safeIdentifier` (reserved words
 *   such as `Object` or `delete` get a `$` appended), and a name already
 *   taken in the file is retried with the salts `$`, `$1`, `$2`, ... in turn.
 */
export function generatedNames(file: DescFile): GeneratedNames {
  let names = cache.get(file);
  if (names === undefined) {
    names = computeNames(file);
    cache.set(file, names);
  }
  return names;
}

function computeNames(file: DescFile): GeneratedNames {
  const claim = createNameClaimer();
  const types = [...nestedTypes(file)];
  const shapes = new Map<DescMessage | DescEnum, string>();
  for (const desc of types) {
    if (desc.kind === "message" || desc.kind === "enum") shapes.set(desc, claim(baseName(desc)));
  }
  claim("file_" + file.name.replace(/[^a-zA-Z0-9_]+/g, "_"));
  const descs = new Map<DescMessage | DescEnum | DescExtension | DescService, string>();
  for (const desc of types) {
    const suffix = desc.kind === "message" || desc.kind === "enum" ? "Schema" : "";
    descs.set(desc, claim(baseName(desc) + suffix));
  }
  return { shapes, descs };
}

/** `pkg.Outer.Inner` -> `Outer_Inner`. */
function baseName(desc: DescMessage | DescEnum | DescExtension | DescService): string {
  const pkg = desc.file.proto.package;
  const local = pkg === "" ? desc.typeName : desc.typeName.slice(pkg.length + 1);
  return local.split(".").join("_");
}

/**
 * A function that returns, for a base name, the first of
 * `safeIdentifier(base + salt)` (salts "", "$", "$1", "$2", ...) not yet
 * taken in the file, and marks it taken.
 *
 * Linear overall: base names never contain `$` (proto identifiers and the
 * sanitized file path cannot), so every candidate belongs to the sequence of
 * one base only, and each base resumes where its last search stopped (a
 * candidate once taken stays taken).
 */
function createNameClaimer(): (base: string) => string {
  const taken = new Set<string>();
  const nextSalt = new Map<string, number>();
  return (base) => {
    let i = nextSalt.get(base) ?? 0;
    let name = safeIdentifier(base + salt(i));
    while (taken.has(name)) name = safeIdentifier(base + salt(++i));
    taken.add(name);
    nextSalt.set(base, i + 1);
    return name;
  };
}

function salt(i: number): string {
  return i === 0 ? "" : i === 1 ? "$" : `$${i - 1}`;
}
