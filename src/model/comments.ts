import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";

/**
 * Source comments of a file's services and methods, indexed once per file.
 *
 * protoplugin's `f.jsDoc(desc)` scans every source location of the file for
 * each element it documents, which costs O(elements x locations) on large
 * files (see shared/notes/protoplugin-performance.md). Indexing the
 * locations by path once keeps the plugin linear in its input.
 */
export interface CommentIndex {
  /** Leading comment of the element (protoc's text, without comment markers), or undefined. */
  leading(desc: DescService | DescMethod): string | undefined;
}

const serviceField = 6; // FileDescriptorProto.service
const methodField = 2; // ServiceDescriptorProto.method

const cache = new WeakMap<DescFile, CommentIndex>();

/** Build (or reuse) the comment index of a file. */
export function indexComments(file: DescFile): CommentIndex {
  let index = cache.get(file);
  if (index === undefined) {
    index = buildIndex(file);
    cache.set(file, index);
  }
  return index;
}

function buildIndex(file: DescFile): CommentIndex {
  const byPath = new Map<string, string>();
  for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
    if (loc.path[0] !== serviceField || loc.leadingComments === undefined) continue;
    if (loc.path.length !== 2 && !(loc.path.length === 4 && loc.path[2] === methodField)) continue;
    const key = loc.path.join(".");
    if (!byPath.has(key)) byPath.set(key, loc.leadingComments);
  }
  return {
    leading(desc) {
      return byPath.get(pathOf(desc).join("."));
    },
  };
}

function pathOf(desc: DescService | DescMethod): number[] {
  if (desc.kind === "service") {
    return [serviceField, desc.file.services.indexOf(desc)];
  }
  return [...pathOf(desc.parent), methodField, desc.parent.methods.indexOf(desc)];
}
