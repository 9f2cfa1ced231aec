/**
 * String formats of buf.validate `StringRules` compiled by the plugin to
 * fixed, anchored regular expressions (bounded repetition over plain
 * character classes: no backtracking hazard). They follow protovalidate
 * v1.2.2's definitions of `uuid`, `tuuid`, `ulid`, `protobuf_fqn`,
 * `protobuf_dot_fqn` and `well_known_regex` (HTTP header name / value,
 * `strict` or not). Network formats (email, hostname, ip, address,
 * host_and_port) are in formats-net.ts; uri / uri_ref are delegated (see
 * docs/validation.md).
 */
const tuuid = /^[0-9a-fA-F]{32}$/;
const ulid = /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/;
const fqn = /^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const dotFqn = /^\.[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
// `+-.` is a range (`+ , - .`), as in protovalidate's pattern.
const headerNameStrict = /^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$/;
const headerNameLoose = /^[^\x00\x0A\x0D]+$/;
const headerValueStrict = /^[^\x00-\x08\x0A-\x1F\x7F]*$/;
const headerValueLoose = /^[^\x00\x0A\x0D]*$/;

/** `string.uuid`: RFC 4122 textual form (8-4-4-4-12 hex digits), any version. A fixed-length scan. */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
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
