/**
 * The character codes the address and header parsers compare against, by name: they scan with
 * charCodeAt to avoid slicing strings on the hot path.
 * @module
 */
export const Char = {
  TAB: 0x09,
  SPACE: 0x20,
  QUOTE: 0x22,
  PERCENT: 0x25,
  COMMA: 0x2c,
  DOT: 0x2e,
  SLASH: 0x2f,
  DIGIT_0: 0x30,
  DIGIT_9: 0x39,
  COLON: 0x3a,
  SEMICOLON: 0x3b,
  EQUALS: 0x3d,
  UPPER_A: 0x41,
  UPPER_F: 0x46,
  LEFT_BRACKET: 0x5b,
  BACKSLASH: 0x5c,
  RIGHT_BRACKET: 0x5d,
  LOWER_A: 0x61,
  LOWER_F: 0x66,
  LOWER_O: 0x6f,
  LOWER_R: 0x72,
  /** OR-ed into an ASCII letter, gives its lower case. */
  LOWER_CASE_BIT: 0x20,
} as const;

/** True for a space or a horizontal tab (HTTP's OWS). */
export function isOws(code: number): boolean {
  return code === Char.SPACE || code === Char.TAB;
}
