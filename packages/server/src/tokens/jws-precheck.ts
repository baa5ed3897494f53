import { hasDuplicateKeys } from './json-duplicates.ts';

/** The protected header of an access token, after the structural checks. */
export interface AccessTokenHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** Why a token failed the structural checks (kept internal: clients only see `invalid_token`). */
export class MalformedTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedTokenError';
  }
}

/** Longer tokens are refused before any decoding (ATTACKS HTTP-09, OPS-01). */
export const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ']);
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/**
 * Cheap structural checks done before any cryptography, for what `jose` accepts but a strict
 * verifier must not (ATTACKS §2):
 * - exactly three non-empty segments of canonical base64url: no padding, no whitespace, no
 *   non-zero unused bits (RFC 7515 §2, §5.2; ALG-15), so one token has exactly one spelling;
 * - a header that is a JSON object with only `alg`, `kid`, `typ` — no `jwk`, `jku`, `x5u`, `x5c`,
 *   `crit`, `b64` or `zip` (RFC 8725 §3.10; ALG-17, ALG-18, KID-05, KID-06);
 * - `alg` exactly the configured one (RFC 8725 §3.1), `typ` `at+jwt` (RFC 9068 §4);
 * - no duplicate members in header or payload (RFC 7515 §4; CLM-11).
 */
export function precheckAccessToken(token: string, expectedAlg: string): AccessTokenHeader {
  if (token.length > MAX_TOKEN_LENGTH) throw new MalformedTokenError('token too long');
  const segments = token.split('.', 4);
  if (segments.length !== 3) throw new MalformedTokenError('not three segments');
  const [headerB64, payloadB64, signatureB64] = segments as [string, string, string];
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) throw new MalformedTokenError('segment is not base64url');
    if (Buffer.from(segment, 'base64url').toString('base64url') !== segment) {
      throw new MalformedTokenError('segment is not canonical base64url');
    }
  }
  if (signatureB64.length === 0) throw new MalformedTokenError('empty signature');

  const header = decodeObject(headerB64, 'header');
  for (const name of Object.keys(header)) {
    if (!HEADER_MEMBERS.has(name)) throw new MalformedTokenError(`header member "${name}" not allowed`);
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || alg !== expectedAlg) throw new MalformedTokenError('alg not allowed');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128)
    throw new MalformedTokenError('bad kid');
  if (typeof typ !== 'string' || !ACCESS_TOKEN_TYPES.has(typ.toLowerCase())) {
    throw new MalformedTokenError('typ is not at+jwt');
  }
  decodeObject(payloadB64, 'payload');
  return { alg, kid, typ };
}

function decodeObject(segment: string, what: string): Record<string, unknown> {
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedTokenError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedTokenError(`${what} is not a JSON object`);
  }
  if (hasDuplicateKeys(text)) throw new MalformedTokenError(`${what} has duplicate members`);
  return value as Record<string, unknown>;
}
