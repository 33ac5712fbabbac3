/**
 * GPT-2 style byte-level alphabet: every byte 0..255 is written as one printable code point in the
 * vocabulary (bytes 33–126, 161–172, 174–255 as themselves, the rest as U+0100 + n in byte order).
 * Decoding a byte-level token sequence = map each character back to its byte, concatenate the bytes of
 * ALL tokens, then decode UTF-8 once, replacing invalid or truncated sequences with U+FFFD.
 *
 * This mirrors the Rust `tokenizers` ByteLevel decoder that transformers uses:
 *  - a token containing any character outside the alphabet (an added token with a space, say)
 *    contributes its own UTF-8 bytes instead;
 *  - invalid input becomes U+FFFD per "maximal subpart" (Rust `String::from_utf8_lossy`; the WHATWG
 *    TextDecoder used here follows the same rule), so a truncated multi-byte character at the end of
 *    a prefix decodes to exactly one U+FFFD. Checked against Python in test/tokenizer/.
 */

function buildMaps(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const set = new Set(printable);
  const byteToChar: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (set.has(b)) byteToChar[b] = String.fromCodePoint(b);
    else byteToChar[b] = String.fromCodePoint(256 + n++);
  }
  const charToByte = new Map<string, number>();
  byteToChar.forEach((c, b) => charToByte.set(c, b));
  return { byteToChar, charToByte };
}

const MAPS = buildMaps();
export const BYTE_TO_CHAR: readonly string[] = MAPS.byteToChar;
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = MAPS.charToByte;

const encoder = new TextEncoder();
const lossy = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The bytes one token stands for (its alphabet bytes, or its own UTF-8 when outside the alphabet). */
export function tokenBytes(token: string): Uint8Array {
  const out: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return encoder.encode(token);
    out.push(b);
  }
  return Uint8Array.from(out);
}

/** Decodes byte-level token strings to text (one lossy UTF-8 decode over all their bytes). */
export function decodeByteLevel(tokens: readonly string[]): string {
  const parts = tokens.map(tokenBytes);
  let len = 0;
  for (const p of parts) len += p.length;
  const all = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return lossy.decode(all);
}
