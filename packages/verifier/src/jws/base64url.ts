import { MalformedTokenError } from './malformed-token-error.ts';

// `+`: an empty segment (a stripped signature, ALG-04) is refused too.
const ALPHABET = /^[A-Za-z0-9_-]+$/;

/**
 * Whether `segment` is base64url exactly as RFC 7515 §2 spells it: the URL-safe alphabet only (no
 * padding, whitespace or `+`/`/`), a length that some byte string encodes to, and zero unused low
 * bits in the last character (RFC 4648 §3.5). Then one byte string has exactly one spelling, so a
 * token cannot be re-spelled into a different string that still verifies (ATTACKS ALG-15, ALG-16).
 * The same answer as "decode, re-encode, compare", measured cheaper for the segments of a token.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const tail = segment.length % 4;
  if (tail === 1 || !ALPHABET.test(segment)) return false;
  if (tail === 0) return true;
  // Two trailing characters carry 12 bits for one byte, three carry 18 for two: 4 or 2 unused.
  const unused = tail === 2 ? 0x0f : 0x03;
  return (sextet(segment.charCodeAt(segment.length - 1)) & unused) === 0;
}

/** The bytes of a canonical base64url segment; anything else is refused. */
export function decodeCanonical(segment: string): Buffer {
  if (!isCanonicalBase64url(segment)) throw new MalformedTokenError('segment is not canonical base64url');
  return Buffer.from(segment, 'base64url');
}

/** The 6-bit value of a character already known to be in the base64url alphabet. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z: 26..51
  if (code === 95) return 63; // '_'
  if (code >= 65) return code - 65; // A-Z: 0..25
  if (code >= 48) return code + 4; // 0-9: 52..61
  return 62; // '-'
}
