import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { InvalidTokenError, TokenExpiredError } from '@tessera/protocol';
import type { Keyring } from '../keys/keyring.ts';
import type { Role } from '../stores/store.ts';
import { MalformedTokenError, precheckAccessToken } from './jws-precheck.ts';

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
  scope: string;
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  /** Seconds. */
  ttl: number;
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockSkew: number;
}

export interface IssuedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  /** `exp` in milliseconds. */
  expiresAt: number;
}

const SCOPES: Record<Role, string> = {
  user: 'profile sessions',
  admin: 'profile sessions admin',
};

/**
 * Signs and verifies access tokens. Claims are built as an object and serialised by the JWT
 * library, never by string concatenation (ATTACKS CLM-12), and carry nothing secret (CLM-16).
 */
export class AccessTokens {
  readonly #keyring: Keyring;
  readonly #settings: AccessTokenSettings;

  constructor(keyring: Keyring, settings: AccessTokenSettings) {
    this.#keyring = keyring;
    this.#settings = settings;
  }

  get ttlSeconds(): number {
    return this.#settings.ttl;
  }

  /** Throws `UnavailableError` unless a key can sign at `now` (checked before state changes). */
  assertCanSign(now: number): void {
    this.#keyring.signingKey(now);
  }

  async issue(
    subject: { userId: string; role: Role; sessionId: string },
    now: number,
  ): Promise<IssuedAccessToken> {
    const key = this.#keyring.signingKey(now);
    const iat = Math.floor(now / 1000);
    const claims: AccessTokenClaims = {
      iss: this.#settings.issuer,
      sub: subject.userId,
      aud: this.#settings.audience,
      exp: iat + this.#settings.ttl,
      iat,
      nbf: iat,
      jti: randomBytes(16).toString('base64url'),
      sid: subject.sessionId,
      role: subject.role,
      scope: SCOPES[subject.role],
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.algorithm.name, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    return { token, claims, expiresAt: claims.exp * 1000 };
  }

  /**
   * Verifies a token: structure first (cheap), then the key by `kid` among the configured
   * algorithm's published keys, then signature, then claims. Rejects with `TokenExpiredError` or
   * `InvalidTokenError`; the reason stays in `cause` for logs, never in the response.
   */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const expectedAlg = this.#keyring.signingAlgorithm;
    let kid: string;
    try {
      ({ kid } = precheckAccessToken(token, expectedAlg));
    } catch (error) {
      throw new InvalidTokenError(undefined, { cause: error });
    }
    const key = this.#keyring.verificationKey(kid, now);
    if (!key) throw new InvalidTokenError(undefined, { cause: new MalformedTokenError('unknown kid') });

    const { ttl, clockSkew, issuer, audience } = this.#settings;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [expectedAlg],
        issuer,
        audience,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti', 'sid'],
        clockTolerance: clockSkew,
        // jose checks a future `iat` only when a maximum age is set (ATTACKS CLM-05).
        maxTokenAge: ttl + clockSkew,
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new TokenExpiredError({ cause: error });
      throw new InvalidTokenError(undefined, { cause: error });
    }
    return checkClaims(payload, ttl, audience);
  }
}

/** Claim shapes jose leaves to the application (ATTACKS CLM-03: `exp: 1e400`, over-long lifetimes). */
function checkClaims(
  payload: Record<string, unknown>,
  ttl: number,
  expectedAudience: string,
): AccessTokenClaims {
  const { exp, iat, nbf, sub, jti, sid, role, scope, iss, aud } = payload;
  const isTime = (value: unknown): value is number =>
    typeof value === 'number' && Number.isSafeInteger(value);
  const bad = (why: string): never => {
    throw new InvalidTokenError(undefined, { cause: new MalformedTokenError(why) });
  };
  if (!isTime(exp) || !isTime(iat) || !isTime(nbf)) return bad('times must be integers');
  if (exp - iat > ttl || exp <= iat) return bad('lifetime longer than the configured TTL');
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string')
    return bad('ids must be strings');
  if (role !== 'user' && role !== 'admin') return bad('unknown role');
  if (typeof scope !== 'string' || typeof iss !== 'string') return bad('bad claim types');
  // jose already checked that `aud` is or contains ours; an array is legal (RFC 7519 §4.1.3).
  const audience = Array.isArray(aud)
    ? aud.find((entry): entry is string => entry === expectedAudience)
    : aud;
  if (typeof audience !== 'string') return bad('bad audience');
  return { iss, sub, aud: audience, exp, iat, nbf, jti, sid, role, scope };
}
