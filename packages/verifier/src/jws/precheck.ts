import { decodeCanonical } from './base64url.ts';
import { readHeader, type AccessTokenHeader } from './header.ts';
import { parseJsonObject } from './json-object.ts';
import { MalformedTokenError } from './malformed-token-error.ts';

export { MalformedTokenError } from './malformed-token-error.ts';
export type { AccessTokenHeader } from './header.ts';

/** A compact JWS that passed the structural checks, decoded once. Claims are not trusted yet. */
export interface PrecheckedToken {
  header: AccessTokenHeader;
  /** The decoded payload object; read it only after the signature has been verified. */
  payload: Record<string, unknown>;
  /**
   * `base64url(header) . base64url(payload)`: what the signature covers (RFC 7515 §5.2). ASCII,
   * so its UTF-8 and Latin-1 bytes are the same; kept a string, as `node:crypto` reads strings
   * without a `Buffer` made for them here.
   */
  signingInput: string;
  signature: Buffer;
}

/** Longer tokens are refused before any decoding (ATTACKS HTTP-09, OPS-01). */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * Cheap structural checks done before any cryptography, for what generic JWT libraries accept but
 * a strict verifier must not (ATTACKS §2):
 * - exactly three non-empty segments of canonical base64url: no padding, no whitespace, no
 *   non-zero unused bits (RFC 7515 §2, §5.2; ALG-15), so one token has exactly one spelling;
 * - a header that passes `readHeader` (only `alg`, `kid`, `typ`; `typ` `at+jwt`);
 * - `alg` one the caller allows (RFC 8725 §3.1);
 * - no duplicate members in header or payload (RFC 7515 §4; CLM-11).
 * Shared by the auth server and the verifier library, so both refuse exactly the same tokens.
 */
export function precheckAccessToken(token: string, allowedAlgorithms: ReadonlySet<string>): PrecheckedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw new MalformedTokenError('token too long');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw new MalformedTokenError('not three segments');

  const header = readHeader(token.slice(0, first));
  if (!allowedAlgorithms.has(header.alg)) throw new MalformedTokenError('alg not allowed');
  const payload = parseJsonObject(decodeCanonical(token.slice(first + 1, second)), 'payload');
  const signature = decodeCanonical(token.slice(second + 1));
  return { header, payload, signingInput: token.slice(0, second), signature };
}
