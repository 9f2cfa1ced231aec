/**
 * Network string formats of buf.validate `StringRules`, with protovalidate
 * v1.2.2's definitions (its CEL extension functions `isEmail`, `isHostname`,
 * `isIp`, `isIpPrefix`, `isHostAndPort`): hand-written scanners, linear in the
 * input, no regex backtracking.
 */
import { charClass, EMAIL_LOCAL, LABEL } from "./char-classes.js";

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * `string.email`: the WHATWG HTML definition of a valid e-mail address (not
 * RFC 5322): one or more of `A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-`, `@`, then
 * dot-separated labels of 1-63 letters, digits and hyphens, neither first nor
 * last a hyphen. A single linear scan.
 */
export function isEmail(s: string): boolean {
  const n = s.length;
  let i = 0;
  while (i < n && (charClass[s.charCodeAt(i)]! & EMAIL_LOCAL) !== 0) i++;
  if (i === 0 || i === n || s.charCodeAt(i) !== 64 /* @ */) return false;
  i++;
  for (;;) {
    const start = i;
    while (i < n && (charClass[s.charCodeAt(i)]! & LABEL) !== 0) i++;
    const len = i - start;
    if (len === 0 || len > 63 || s.charCodeAt(start) === 45 || s.charCodeAt(i - 1) === 45) return false;
    if (i === n) return true;
    if (s.charCodeAt(i) !== 46 /* . */) return false;
    i++;
  }
}

/**
 * `string.hostname`: dot-separated labels of 1-63 ASCII letters, digits and
 * hyphens (not first or last); the last label not all digits; at most 253
 * UTF-16 code units in all; one trailing dot allowed.
 */
export function isHostname(s: string): boolean {
  if (s.length > 253) return false;
  const end = s.endsWith(".") ? s.length - 1 : s.length;
  let labelStart = 0;
  let allDigits = false;
  for (let i = 0; i <= end; i++) {
    const c = i === end ? 46 /* . */ : s.charCodeAt(i);
    if (c === 46) {
      const len = i - labelStart;
      if (len === 0 || len > 63 || s.charCodeAt(labelStart) === 45 || s.charCodeAt(i - 1) === 45) return false;
      if (i === end) return !allDigits;
      labelStart = i + 1;
      allDigits = false;
      continue;
    }
    if (i === labelStart) allDigits = true;
    if (isDigit(c)) continue;
    allDigits = false;
    if (!isAlpha(c) && c !== 45) return false;
  }
  return false;
}

/** A parsed address: 32-bit words (1 for IPv4, 4 for IPv6) and the prefix length, or undefined. */
interface Parsed {
  readonly words: number[];
  readonly prefix: number;
  readonly zone: boolean;
}

/** Parse a decimal of 1..maxDigits digits without a leading zero (a lone "0" is fine) at `i`, before `to`; returns [value, next] or undefined. */
function decimal(s: string, i: number, maxDigits: number, to = s.length): [number, number] | undefined {
  let j = i;
  while (j < to && isDigit(s.charCodeAt(j))) {
    j++;
    if (j - i > maxDigits) return undefined;
  }
  if (j === i || (j - i > 1 && s.charCodeAt(i) === 48)) return undefined;
  return [Number(s.slice(i, j)), j];
}

/** Dotted-decimal IPv4 at [from, to): four octets 0-255 without leading zeros. */
function parseIpv4(s: string, from: number, to: number): number | undefined {
  let value = 0;
  let i = from;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (s.charCodeAt(i) !== 46) return undefined;
      i++;
    }
    const d = decimal(s, i, 3, to);
    if (d === undefined || d[0] > 255) return undefined;
    value = value * 256 + d[0];
    i = d[1];
  }
  return i === to ? value : undefined;
}

/**
 * IPv6 text form (RFC 4291 2.2; `::` for at least one zero group; the last
 * 32 bits may be dotted IPv4 after 6 groups or after `::`; a `%zone` suffix
 * of at least one character) at [0, to). Returns the four 32-bit words.
 */
function parseIpv6(s: string, to: number): { words: number[]; zone: boolean } | undefined {
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  let zone = false;
  let v4: number | undefined;
  while (i < to) {
    if (gap >= 0 || groups.length === 6) {
      // a dotted tail: digits and dots, 7 or more characters
      let j = i;
      while (j < to && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
      if (j - i >= 7) {
        // the dotted tail ends the address: nothing (not even a zone) may follow
        v4 = parseIpv4(s, i, j);
        if (v4 === undefined || j !== to) return undefined;
        i = j;
        break;
      }
    }
    let j = i;
    while (j < to && isHex(s.charCodeAt(j))) j++;
    if (j > i) {
      if (j - i > 4) return undefined;
      groups.push(parseInt(s.slice(i, j), 16));
      i = j;
      continue;
    }
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) {
      if (s.charCodeAt(i + 1) === 58) {
        if (gap >= 0 || s.charCodeAt(i + 2) === 58) return undefined;
        gap = groups.length;
        i += 2;
      } else {
        // a single colon may not start the address or end the whole string (as protovalidate's scanner)
        if (i === 0 || i + 1 === s.length) return undefined;
        i++;
      }
      continue;
    }
    if (c === 37 /* % */ && i + 1 < to) {
      zone = true;
      i = to;
    }
    break;
  }
  if (i !== to) return undefined;
  if (v4 !== undefined) groups.push(Math.floor(v4 / 65536), v4 % 65536);
  if (gap >= 0 ? groups.length >= 8 : groups.length !== 8) return undefined;
  if (gap >= 0) groups.splice(gap, 0, ...new Array<number>(8 - groups.length).fill(0));
  const words = [0, 1, 2, 3].map((k) => groups[2 * k]! * 65536 + groups[2 * k + 1]!);
  return { words, zone };
}

function parseAddress(s: string, version: 4 | 6, to = s.length): Parsed | undefined {
  if (version === 4) {
    const v = parseIpv4(s, 0, to);
    return v === undefined ? undefined : { words: [v], prefix: 32, zone: false };
  }
  const v6 = parseIpv6(s, to);
  return v6 === undefined ? undefined : { words: v6.words, prefix: 128, zone: v6.zone };
}

/** `string.ip` / `ipv4` / `ipv6` (and `bytes` formats' text counterparts): version 0 = either. IPv6 may carry a zone (`fe80::1%eth0`). */
export function isIp(s: string, version: 0 | 4 | 6 = 0): boolean {
  if (version === 0) return parseAddress(s, 4) !== undefined || parseAddress(s, 6) !== undefined;
  return parseAddress(s, version) !== undefined;
}

/**
 * `string.ip_with_prefixlen` and friends (`strict` false), `string.ip_prefix`
 * and friends (`strict` true: the host bits must be zero): `addr/len`, no
 * zone, `len` without leading zeros, at most 32 (IPv4) or 128 (IPv6).
 */
export function isIpPrefix(s: string, version: 0 | 4 | 6 = 0, strict = false): boolean {
  if (version === 0) return isIpPrefix(s, 6, strict) || isIpPrefix(s, 4, strict);
  const slash = s.indexOf("/");
  if (slash < 0) return false;
  const addr = parseAddress(s, version, slash);
  if (addr === undefined || addr.zone) return false;
  const len = decimal(s, slash + 1, version === 4 ? 2 : 3);
  if (len === undefined || len[1] !== s.length || len[0] > addr.prefix) return false;
  if (!strict) return true;
  return addr.words.every((w, k) => {
    const bits = len[0] - 32 * k;
    const mask = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (~(0xffffffff >>> bits)) >>> 0;
    return ((w & mask) >>> 0) === w;
  });
}

function isPort(s: string): boolean {
  if (s.length === 0 || s.length > 5 || (s.length > 1 && s.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return Number(s) <= 65535;
}

/**
 * `string.host_and_port` (port required) and the CEL `isHostAndPort(false)`:
 * a hostname, dotted IPv4 or bracketed IPv6, then `:port` (0-65535, no
 * leading zeros).
 */
export function isHostAndPort(s: string, portRequired = true): boolean {
  if (s.length === 0) return false;
  const colon = s.lastIndexOf(":");
  if (s.charCodeAt(0) === 91 /* [ */) {
    const close = s.lastIndexOf("]");
    const host = s.slice(1, Math.max(close, 1));
    if (close + 1 === s.length) return !portRequired && isIp(host, 6);
    if (close + 1 === colon) return isIp(host, 6) && isPort(s.slice(colon + 1));
    return false;
  }
  if (colon < 0) return !portRequired && (isHostname(s) || isIp(s, 4));
  const host = s.slice(0, colon);
  return (isHostname(host) || isIp(host, 4)) && isPort(s.slice(colon + 1));
}

/** `string.address`: a hostname or an IP address. */
export function isAddress(s: string): boolean {
  return isHostname(s) || isIp(s, 0);
}
