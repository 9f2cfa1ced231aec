/**
 * ASCII character classes of the string formats, as bit flags in one table
 * indexed by UTF-16 code unit: every `charCodeAt` result is an index, so
 * scanners test a class with one load and no range check (64 KiB, shared).
 */
export const charClass = new Uint8Array(0x10000);

/** `0-9 a-f A-F` */
export const HEX = 1;
/** Local part of an e-mail address (WHATWG: atext and `.`). */
export const EMAIL_LOCAL = 2;
/** Domain label: ASCII letters, digits, `-`. */
export const LABEL = 4;

function mark(chars: string, flag: number): void {
  for (const c of chars) charClass[c.charCodeAt(0)]! |= flag;
}
const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
mark("0123456789abcdefABCDEF", HEX);
mark(`${alnum}.!#$%&'*+/=?^_\`{|}~-`, EMAIL_LOCAL);
mark(`${alnum}-`, LABEL);
