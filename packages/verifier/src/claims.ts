import { InvalidTokenError, TokenExpiredError } from '@tessera/protocol';
import { MalformedTokenError } from './jws/precheck.ts';

/** A Tessera user's role, carried in the `role` claim. */
export type Role = 'user' | 'admin';

/** The claims of a Tessera access token (RFC 9068 §2.2 plus `sid`, `role`). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  sid: string;
  role: Role;
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  scope: string;
  /**
   * How the user signed in (RFC 8176 values: `pwd`, `otp`, `mfa`…), the same for every token of a
   * session. Absent from tokens of servers before issue 14.
   */
  amr?: string[];
  /** When the user signed in, seconds (OpenID Connect Core §2); absent as `amr`. */
  auth_time?: number;
}

/** What a token's claims are checked against. Times in seconds. */
export interface ClaimPolicy {
  issuer: string;
  audience: string;
  /** Leeway for `exp`, `nbf` and `iat`. */
  clockSkew: number;
  /** The longest `exp - iat` accepted: the auth server's access-token lifetime (ATTACKS CLM-03). */
  maxTokenAge: number;
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/**
 * Checks a payload whose signature has already been verified: shapes first, then `iss`, `aud`,
 * `exp`, `nbf`, `iat` with the leeway. Rejects with `TokenExpiredError` for an expired token and
 * `InvalidTokenError` for anything else; the reason stays in `cause`. Builds a fresh object, never
 * merging the payload into one, so `__proto__` members change nothing (ATTACKS CLM-13).
 */
export function checkClaims(
  payload: Record<string, unknown>,
  policy: ClaimPolicy,
  nowMs: number,
): AccessTokenClaims {
  const { exp, iat, nbf, sub, jti, sid, role, scope, iss, aud, amr, auth_time: authTime } = payload;
  // RFC 9068 §2.2 makes these required; generic libraries accept their absence (ATTACKS CLM-02).
  if (!isTime(exp) || !isTime(iat) || !isTime(nbf)) return bad('exp, iat and nbf must be integers');
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string')
    return bad('sub, jti and sid must be strings');
  if (role !== 'user' && role !== 'admin') return bad('unknown role');
  if (typeof scope !== 'string') return bad('scope must be a string');

  // RFC 8725 §3.8: exact match; an array holding our issuer is not our issuer (CLM-06).
  if (iss !== policy.issuer) return bad('wrong issuer');
  // RFC 7519 §4.1.3: `aud` may be an array; it must name us (CLM-07).
  const named = Array.isArray(aud) ? (aud as unknown[]).includes(policy.audience) : aud === policy.audience;
  if (!named) return bad('wrong audience');

  const now = nowMs / 1000;
  const { clockSkew } = policy;
  // RFC 7519 §4.1.4: the current time must be before `exp` (plus the leeway).
  if (now >= exp + clockSkew) throw new TokenExpiredError({ cause: new MalformedTokenError('expired') });
  if (nbf > now + clockSkew) return bad('not yet valid');
  if (iat > now + clockSkew) return bad('issued in the future');
  if (exp <= iat || exp - iat > policy.maxTokenAge) return bad('lifetime longer than the access-token TTL');
  const claims: AccessTokenClaims = { iss, sub, aud: policy.audience, exp, iat, nbf, jti, sid, role, scope };
  if (amr !== undefined) {
    if (!Array.isArray(amr) || !amr.every((method) => typeof method === 'string'))
      return bad('amr must be an array of strings');
    claims.amr = [...amr];
  }
  if (authTime !== undefined) {
    if (!isTime(authTime) || authTime > now + clockSkew)
      return bad('auth_time must be a time, not a future one');
    claims.auth_time = authTime;
  }
  return claims;
}

function bad(why: string): never {
  throw new InvalidTokenError(undefined, { cause: new MalformedTokenError(why) });
}
