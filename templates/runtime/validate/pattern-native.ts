/**
 * A fast path for `string.pattern`: RE2 patterns from a small subset whose
 * meaning is the same in RE2 and JavaScript and whose JavaScript matching
 * stays linear run on the platform's RegExp; everything else runs on
 * @bufbuild/re2 (see strings.ts `compilePattern`).
 *
 * The subset: anchored at the start (`^`), optional `$` at the end, then a
 * sequence of atoms, each an ASCII letter, digit or non-meta punctuation, an
 * escaped meta character, `\d`, `\w`, or a positive character class of those
 * (with ranges), each optionally quantified (`?`, `*`, `+`, `{n}`, `{n,}`,
 * `{n,m}`), with at most one unbounded quantifier. Only ASCII can match, so
 * UTF-8 (RE2) and UTF-16 (JavaScript) views agree; with one start position
 * and at most one unbounded repetition, backtracking is bounded by the input
 * length times the product of the bounded repetitions' widths, which is
 * capped here.
 */
export function nativePattern(source: string): RegExp | undefined {
  if (!source.startsWith("^")) return undefined;
  let i = 1;
  let unbounded = 0;
  let work = 1;
  const end = source.endsWith("$") && !source.endsWith("\\$") ? source.length - 1 : source.length;
  while (i < end) {
    const atom = readAtom(source, i, end);
    if (atom === undefined) return undefined;
    i = atom;
    const q = readQuantifier(source, i, end);
    if (q === undefined) return undefined;
    i = q.next;
    if (q.max === Infinity) unbounded++;
    else work *= q.max - q.min + 1;
    if (unbounded > 1 || work > 4096) return undefined;
  }
  return new RegExp(source);
}

const meta = ".^$*+?()[]{}|\\";
const isPlain = (c: string) => c >= " " && c <= "~" && !meta.includes(c);

export function readAtom(s: string, i: number, end: number): number | undefined {
  const c = s[i]!;
  if (c === "\\") return escape(s, i, end, false);
  if (c === "[") {
    let j = i + 1;
    if (s[j] === "^" || s[j] === "]") return undefined;
    while (j < end && s[j] !== "]") {
      if (s[j] === "\\") {
        const k = escape(s, j, end, true);
        if (k === undefined) return undefined;
        j = k;
      } else if (s[j] === "[" ) {
        return undefined; // [:alpha:] and nested classes
      } else if (isPlain(s[j]!) || meta.includes(s[j]!)) {
        j++;
      } else return undefined;
    }
    return j < end ? j + 1 : undefined;
  }
  return isPlain(c) ? i + 1 : undefined;
}

function escape(s: string, i: number, end: number, inClass: boolean): number | undefined {
  const d = s[i + 1];
  if (d === undefined || i + 1 >= end) return undefined;
  if (d === "d" || d === "w") return i + 2;
  if (meta.includes(d) || d === "-" || (inClass && d === "^")) return i + 2;
  return undefined;
}

export function readQuantifier(s: string, i: number, end: number): { next: number; min: number; max: number } | undefined {
  const c = i < end ? s[i] : undefined;
  let q: { next: number; min: number; max: number };
  if (c === "?") q = { next: i + 1, min: 0, max: 1 };
  else if (c === "*") q = { next: i + 1, min: 0, max: Infinity };
  else if (c === "+") q = { next: i + 1, min: 1, max: Infinity };
  else if (c === "{") {
    const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(s.slice(i, end));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (max < min || min > 1000 || (max !== Infinity && max > 1000)) return undefined;
    q = { next: i + m[0].length, min, max };
  } else return { next: i, min: 1, max: 1 };
  // lazy (`?`) or possessive suffixes are not in the subset
  const after = q.next < end ? s[q.next] : undefined;
  if (after === "?" || after === "+" || after === "*" || after === "{") return undefined;
  return q;
}
