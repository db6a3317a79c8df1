/** HTTP token characters (RFC 9110 `tchar`): header and trailer names are made of them. */
export function isTokenChar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    c === 0x21 ||
    (c >= 0x23 && c <= 0x27) ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x5e && c <= 0x60) ||
    c === 0x7c ||
    c === 0x7e
  );
}
