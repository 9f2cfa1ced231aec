import { readAtom, readQuantifier } from "./pattern-native.js";

/**
 * The fastest path for `string.pattern`: a pattern of the native subset (see
 * pattern-native.ts) that is anchored at both ends (`^...$`) and whose atoms
 * each match one ASCII character a fixed number of times (no quantifier, or
 * `{n}`), except the last one, which may take any quantifier, e.g.
 * `^[a-z][a-z0-9-]{0,31}$`. Such a pattern matches deterministically left to
 * right, so it runs as a length check and one table lookup per character,
 * with the same verdict as RE2 and the RegExp (only ASCII can match).
 * Returns undefined for any other pattern.
 */
export function sequencePattern(source: string): { test(s: string): boolean } | undefined {
  if (!source.startsWith("^") || !source.endsWith("$") || source.endsWith("\\$")) return undefined;
  const end = source.length - 1;
  const fixed: Uint8Array[] = [];
  let last: { set: Uint8Array; min: number; max: number } | undefined;
  for (let i = 1; i < end; ) {
    if (last !== undefined) return undefined; // a repeated atom that is not the last one
    const next = readAtom(source, i, end);
    if (next === undefined) return undefined;
    const set = atomSet(source.slice(i, next));
    const q = readQuantifier(source, next, end);
    if (set === undefined || q === undefined) return undefined;
    i = q.next;
    if (q.min === q.max && fixed.length + q.min <= 64) for (let k = 0; k < q.min; k++) fixed.push(set);
    else last = { set, min: q.min, max: q.max };
  }
  const { set, min, max } = last ?? { set: new Uint8Array(128), min: 0, max: 0 };
  const k = fixed.length;
  return {
    test(s: string): boolean {
      const n = s.length;
      if (n < k + min || n - k > max) return false;
      for (let i = 0; i < k; i++) {
        const c = s.charCodeAt(i);
        if (c > 127 || fixed[i]![c] === 0) return false;
      }
      for (let i = k; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127 || set[c] === 0) return false;
      }
      return true;
    },
  };
}

const digits = "0123456789";
const word = `${digits}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_`;

/** The ASCII characters one atom (`a`, `\.`, `\d`, `\w`, `[a-z0-9-]`) matches, as a 128-entry table; undefined when unsure. */
function atomSet(atom: string): Uint8Array | undefined {
  const set = new Uint8Array(128);
  const add = (chars: string) => {
    for (const c of chars) set[c.charCodeAt(0)] = 1;
  };
  if (atom[0] !== "[") {
    const e = element(atom, 0);
    if (e === undefined || e.next !== atom.length) return undefined;
    add(e.chars);
    return set;
  }
  const end = atom.length - 1; // the closing "]"
  for (let i = 1; i < end; ) {
    const e = element(atom, i);
    if (e === undefined) return undefined;
    if (atom[e.next] === "-" && e.next + 1 < end) {
      const hi = element(atom, e.next + 1);
      if (hi === undefined || !e.single || !hi.single) return undefined;
      const a = e.chars.charCodeAt(0);
      const b = hi.chars.charCodeAt(0);
      if (a > b || b > 127) return undefined;
      for (let c = a; c <= b; c++) set[c] = 1;
      i = hi.next;
    } else {
      add(e.chars);
      i = e.next;
    }
  }
  return set;
}

/** One element at `i`: a literal or escaped character, or `\d` / `\w`. */
function element(s: string, i: number): { chars: string; single: boolean; next: number } | undefined {
  const c = s[i];
  if (c === undefined) return undefined;
  if (c !== "\\") return c.charCodeAt(0) < 128 ? { chars: c, single: true, next: i + 1 } : undefined;
  const d = s[i + 1];
  if (d === "d") return { chars: digits, single: false, next: i + 2 };
  if (d === "w") return { chars: word, single: false, next: i + 2 };
  if (d === undefined || /[A-Za-z0-9]/.test(d)) return undefined;
  return { chars: d, single: true, next: i + 2 };
}
