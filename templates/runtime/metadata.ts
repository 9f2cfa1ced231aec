import { Metadata } from "@grpc/grpc-js";

/**
 * Metadata as a caller may give it: a grpc-js Metadata, or a record of
 * header names to values. Keys ending in `-bin` take Buffers (binary
 * metadata); the others take strings.
 */
export type MetadataInit = Metadata | Record<string, string | Buffer | readonly (string | Buffer)[]>;

/** Convert a MetadataInit to a new grpc-js Metadata (never shares the caller's object). */
export function toMetadata(init: MetadataInit | undefined): Metadata {
  if (init === undefined) return new Metadata();
  if (init instanceof Metadata) return init.clone();
  const md = new Metadata();
  for (const [key, value] of Object.entries(init)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) md.add(key, v as string | Buffer);
  }
  return md;
}

/** Copy every entry of `from` into `to` (values are appended). */
export function mergeMetadata(to: Metadata, from: Metadata): void {
  for (const [key, values] of Object.entries(from.getMap())) {
    void values;
    for (const v of from.get(key)) to.add(key, v);
  }
}
