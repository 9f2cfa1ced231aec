/**
 * google.protobuf.Duration / Timestamp comparisons for buf.validate
 * `duration` and `timestamp` rules (protovalidate v1.2.2). Values compare by
 * (seconds, nanos), which is their order for normalized values (|nanos| <
 * 1e9, same sign as seconds). "now" is the current time at millisecond
 * precision (as protovalidate's `timestampNow()`).
 */

/** A Duration or Timestamp (the fields these helpers read). */
export interface TimeLike {
  readonly seconds: bigint;
  readonly nanos: number;
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareTime(a: TimeLike, b: TimeLike): number {
  return a.seconds < b.seconds ? -1 : a.seconds > b.seconds ? 1 : a.nanos - b.nanos;
}

/** True when `v` equals one of `list` (`duration.in` / `not_in`). */
export function isTimeIn(v: TimeLike, list: readonly TimeLike[]): boolean {
  for (const x of list) if (compareTime(v, x) === 0) return true;
  return false;
}

function now(): TimeLike {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** `compareTime(v, now)` (`timestamp.lt_now` / `gt_now`). */
export function compareTimeToNow(v: TimeLike): number {
  return compareTime(v, now());
}

/** `timestamp.within`: `now - within <= v <= now + within`. */
export function isWithinOfNow(v: TimeLike, within: TimeLike): boolean {
  const n = now();
  const lo = add(n, within, -1);
  const hi = add(n, within, 1);
  return compareTime(v, lo) >= 0 && compareTime(v, hi) <= 0;
}

function add(a: TimeLike, d: TimeLike, sign: 1 | -1): TimeLike {
  let seconds = a.seconds + BigInt(sign) * d.seconds;
  let nanos = a.nanos + sign * d.nanos;
  if (nanos >= 1_000_000_000) {
    nanos -= 1_000_000_000;
    seconds += 1n;
  } else if (nanos < 0) {
    nanos += 1_000_000_000;
    seconds -= 1n;
  }
  return { seconds, nanos };
}
