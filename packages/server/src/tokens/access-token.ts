import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  checkClaims,
  parseAccessToken,
  prepareKey,
  verifySignatureAsync,
  type AccessTokenClaims,
  type AlgorithmName,
  type ClaimPolicy,
  type PreparedKey,
} from '@tessera/verifier/tokens';
import type { Keyring, SigningKey } from '../keys/keyring.ts';
import type { Role } from '../stores/store.ts';

export type { AccessTokenClaims } from '@tessera/verifier/tokens';

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
  /** The one algorithm this server signs with is the only one it accepts (RFC 8725 §3.1). */
  readonly #algorithms: ReadonlySet<AlgorithmName>;
  readonly #policy: ClaimPolicy;
  readonly #preparedKeys = new WeakMap<SigningKey['publicKey'], PreparedKey>();

  constructor(keyring: Keyring, settings: AccessTokenSettings) {
    this.#keyring = keyring;
    this.#settings = settings;
    this.#algorithms = new Set([keyring.signingAlgorithm]);
    const { issuer, audience, clockSkew, ttl } = settings;
    this.#policy = { issuer, audience, clockSkew, maxTokenAge: ttl };
  }

  get ttlSeconds(): number {
    return this.#settings.ttl;
  }

  /** Throws `UnavailableError` unless a key can sign at `now` (checked before state changes). */
  assertCanSign(now: number): void {
    this.#keyring.signingKey(now);
  }

  async issue(
    subject: { userId: string; role: Role; sessionId: string; amr: readonly string[]; authTime: number },
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
      // How and when the user signed in (RFC 8176, OIDC Core §2): the same for every token of the
      // session, so a service can ask for a second factor or a recent sign-in (step-up).
      amr: [...subject.amr],
      auth_time: Math.floor(subject.authTime / 1000),
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.algorithm.name, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    return { token, claims, expiresAt: claims.exp * 1000 };
  }

  /**
   * Verifies a token with the same checks as `@tessera/verifier`: structure first (cheap), then the
   * key by `kid` among the configured algorithm's published keys, then signature, then claims.
   * Rejects with `TokenExpiredError` or `InvalidTokenError`; the reason stays in `cause` for
   * logs, never in the response.
   */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const parsed = parseAccessToken(token, this.#algorithms);
    // A kid we do not know may be a key another instance just created or rotated in: look in the
    // store once, at most once per cooldown, so random kids cannot turn into a query each.
    const key =
      this.#keyring.verificationKey(parsed.header.kid, now) ??
      ((await this.#keyring.reloadForUnknownKid(now))
        ? this.#keyring.verificationKey(parsed.header.kid, now)
        : undefined);
    // On the threadpool, as the verifier does by default: with many requests in flight it uses the
    // second core (docs/benchmarks.md, verification case).
    await verifySignatureAsync(parsed, key && this.#prepared(key));
    return checkClaims(parsed.payload, this.#policy, now);
  }

  /** Keys are bound to their algorithm once, not per request. */
  #prepared(key: SigningKey): PreparedKey | undefined {
    let prepared = this.#preparedKeys.get(key.publicKey);
    if (!prepared) {
      prepared = prepareKey(key.algorithm.name, key.publicKey);
      if (prepared) this.#preparedKeys.set(key.publicKey, prepared);
    }
    return prepared;
  }
}
