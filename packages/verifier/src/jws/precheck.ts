import { hasDuplicateKeys } from './json-duplicates.ts';

/** The protected header of an access token, after the structural checks. */
export interface AccessTokenHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** A compact JWS that passed the structural checks, decoded once. Claims are not trusted yet. */
export interface PrecheckedToken {
  header: AccessTokenHeader;
  /** The decoded payload object; read it only after the signature has been verified. */
  payload: Record<string, unknown>;
  /** `base64url(header) . base64url(payload)`: the bytes the signature covers (RFC 7515 §5.2). */
  signingInput: Buffer;
  signature: Buffer;
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
// `+`: an empty segment (a stripped signature, ALG-04) is refused here already.
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ']);
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/**
 * Cheap structural checks done before any cryptography, for what generic JWT libraries accept but
 * a strict verifier must not (ATTACKS §2):
 * - exactly three non-empty segments of canonical base64url: no padding, no whitespace, no
 *   non-zero unused bits (RFC 7515 §2, §5.2; ALG-15), so one token has exactly one spelling;
 * - a header that is a JSON object with only `alg`, `kid`, `typ` — no `jwk`, `jku`, `x5u`, `x5c`,
 *   `crit`, `b64` or `zip` (RFC 8725 §3.10; ALG-17, ALG-18, KID-05, KID-06);
 * - `alg` one the caller allows (RFC 8725 §3.1), `typ` `at+jwt` (RFC 9068 §4);
 * - no duplicate members in header or payload (RFC 7515 §4; CLM-11).
 * Shared by the auth server and the verifier library, so both refuse exactly the same tokens.
 */
export function precheckAccessToken(token: string, allowedAlgorithms: ReadonlySet<string>): PrecheckedToken {
  if (token.length > MAX_TOKEN_LENGTH) throw new MalformedTokenError('token too long');
  const segments = token.split('.', 4);
  if (segments.length !== 3) throw new MalformedTokenError('not three segments');
  const [headerBytes, payloadBytes, signature] = segments.map(decodeCanonical) as [Buffer, Buffer, Buffer];

  const header = decodeObject(headerBytes, 'header');
  for (const name of Object.keys(header)) {
    if (!HEADER_MEMBERS.has(name)) throw new MalformedTokenError(`header member "${name}" not allowed`);
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !allowedAlgorithms.has(alg))
    throw new MalformedTokenError('alg not allowed');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128)
    throw new MalformedTokenError('bad kid');
  if (typeof typ !== 'string' || !ACCESS_TOKEN_TYPES.has(typ.toLowerCase())) {
    throw new MalformedTokenError('typ is not at+jwt');
  }
  const payload = decodeObject(payloadBytes, 'payload');
  const signingInput = Buffer.from(token.slice(0, token.lastIndexOf('.')), 'latin1');
  return { header: { alg, kid, typ }, payload, signingInput, signature };
}

function decodeCanonical(segment: string): Buffer {
  if (!SEGMENT.test(segment)) throw new MalformedTokenError('segment is not base64url');
  const bytes = Buffer.from(segment, 'base64url');
  // Re-encoding gives back the input only when it had no padding and zero unused bits.
  if (bytes.toString('base64url') !== segment) throw new MalformedTokenError('segment is not canonical');
  return bytes;
}

function decodeObject(bytes: Buffer, what: string): Record<string, unknown> {
  const text = bytes.toString('utf8');
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
