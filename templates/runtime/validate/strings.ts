import { RE2JS } from "@bufbuild/re2";
import { nativePattern } from "./pattern-native.js";
import { sequencePattern } from "./pattern-sequence.js";

/**
 * String and bytes helpers of generated validators. Lengths follow CEL:
 * `size(string)` counts Unicode code points, `bytes(string).size()` counts
 * UTF-8 bytes (an unpaired surrogate counts as U+FFFD, 3 bytes).
 */

/** Number of Unicode code points in `s` (a surrogate pair counts once). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Number of bytes of the UTF-8 encoding of `s`, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Compile a `string.pattern` / `bytes.pattern` with RE2 semantics
 * (`@bufbuild/re2`: linear-time matching, no backreferences or lookaround),
 * once, at module load. Returns a `Pattern` whose `test(s)` is true when `s`
 * matches anywhere (RE2 `find`, not a full match, as protovalidate's
 * `matches()`).
 * Throws a SyntaxError-like error for a pattern RE2 rejects (the plugin
 * rejects those at generation time). Patterns of a small linear subset
 * run on the platform RegExp (see pattern-native.ts), the simplest of those
 * as a per-character table scan (pattern-sequence.ts), with the same result.
 */
export function compilePattern(source: string): Pattern {
  const re = RE2JS.compile(source);
  // a RegExp without flags keeps no state between `test` calls; generated code
  // calls `test` directly, which V8 optimizes for an unmodified RegExp
  return sequencePattern(source) ?? nativePattern(source) ?? re;
}

/** A compiled `string.pattern`: `test(s)` is true when `s` matches anywhere. */
export interface Pattern {
  test(s: string): boolean;
}

/** True when `bytes` starts with `prefix`. */
export function bytesHasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** True when `bytes` ends with `suffix`. */
export function bytesHasSuffix(bytes: Uint8Array, suffix: Uint8Array): boolean {
  const off = bytes.length - suffix.length;
  if (off < 0) return false;
  for (let i = 0; i < suffix.length; i++) if (bytes[off + i] !== suffix[i]) return false;
  return true;
}

/** True when `bytes` contains `part` (an empty `part` is always contained). */
export function bytesContains(bytes: Uint8Array, part: Uint8Array): boolean {
  outer: for (let i = 0; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return true;
  }
  return false;
}

/** True when the two byte arrays are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when `bytes` equals one of `list`. */
export function bytesIn(bytes: Uint8Array, list: readonly Uint8Array[]): boolean {
  for (const b of list) if (bytesEqual(bytes, b)) return true;
  return false;
}

/** True when the items of a repeated scalar field are pairwise distinct (CEL `unique()`; NaN is never equal, bytes compared by content). */
export function isUnique(items: readonly unknown[]): boolean {
  if (items.length < 2) return true;
  if (items[0] instanceof Uint8Array) {
    const seen = new Set<string>();
    for (const b of items as Uint8Array[]) {
      const k = Array.prototype.join.call(b, ",");
      if (seen.has(k)) return false;
      seen.add(k);
    }
    return true;
  }
  if (items.length < 16) {
    for (let i = 1; i < items.length; i++) for (let j = 0; j < i; j++) if (items[i] === items[j]) return false;
    return true;
  }
  const seen = new Set<unknown>();
  for (const v of items) {
    if (v !== v) continue; // NaN is unequal to everything, itself included
    if (seen.has(v)) return false;
    seen.add(v);
  }
  return true;
}

/** Number of entries of a protobuf-es map field (a plain object), without allocating a key array. */
export function mapSize(map: object): number {
  let n = 0;
  for (const _ in map) n++;
  return n;
}
