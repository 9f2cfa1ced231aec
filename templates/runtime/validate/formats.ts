/**
 * String formats of buf.validate `StringRules` compiled by the plugin to
 * fixed, anchored regular expressions (bounded repetition over plain
 * character classes: no backtracking hazard) or, for `uuid`, a fixed scan. They follow protovalidate
 * v1.2.2's definitions of `uuid`, `tuuid`, `ulid`, `protobuf_fqn`,
 * `protobuf_dot_fqn` and `well_known_regex` (HTTP header name / value,
 * `strict` or not). Network formats (email, hostname, ip, address,
 * host_and_port) are in formats-net.ts; uri / uri_ref are delegated (see
 * docs/validation.md).
 */
import { charClass, HEX } from "./char-classes.js";

const tuuid = /^[0-9a-fA-F]{32}$/;
const ulid = /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/;
const fqn = /^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const dotFqn = /^\.[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
// `+-.` is a range (`+ , - .`), as in protovalidate's pattern.
const headerNameStrict = /^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$/;
const headerNameLoose = /^[^\x00\x0A\x0D]+$/;
const headerValueStrict = /^[^\x00-\x08\x0A-\x1F\x7F]*$/;
const headerValueLoose = /^[^\x00\x0A\x0D]*$/;

/**
 * `string.uuid`: RFC 4122 textual form (8-4-4-4-12 hex digits), any version.
 * Unrolled, branch-free over the 32 digits: about twice as fast as a loop in V8.
 */
export function isUuid(s: string): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
  const h = charClass;
  const c = (i: number) => h[s.charCodeAt(i)]!;
  return (
    (c(0) & c(1) & c(2) & c(3) & c(4) & c(5) & c(6) & c(7) &
      c(9) & c(10) & c(11) & c(12) &
      c(14) & c(15) & c(16) & c(17) &
      c(19) & c(20) & c(21) & c(22) &
      c(24) & c(25) & c(26) & c(27) & c(28) & c(29) & c(30) & c(31) & c(32) & c(33) & c(34) & c(35) & HEX) !== 0
  );
}

/** `string.tuuid`: 32 hex digits. */
export const isTrimmedUuid = (s: string): boolean => tuuid.test(s);
/** `string.ulid`: 26 Crockford base32 characters, first in 0-7. */
export const isUlid = (s: string): boolean => ulid.test(s);
/** `string.protobuf_fqn`: `foo.bar.Baz`. */
export const isProtobufFqn = (s: string): boolean => fqn.test(s);
/** `string.protobuf_dot_fqn`: `.foo.bar.Baz`. */
export const isProtobufDotFqn = (s: string): boolean => dotFqn.test(s);
/** `string.well_known_regex = KNOWN_REGEX_HTTP_HEADER_NAME`, `strict` (default) or not. */
export const isHeaderName = (s: string, strict: boolean): boolean => (strict ? headerNameStrict : headerNameLoose).test(s);
/** `string.well_known_regex = KNOWN_REGEX_HTTP_HEADER_VALUE`, `strict` (default) or not. */
export const isHeaderValue = (s: string, strict: boolean): boolean => (strict ? headerValueStrict : headerValueLoose).test(s);
