import { createSecretKey, type KeyObject } from 'node:crypto';
import { parseDuration } from '@tessera/protocol';
import {
  isAlgorithmName,
  isSymmetric,
  prepareKey,
  type AlgorithmName,
  type PreparedKey,
} from './algorithms.ts';
import { checkClaims, type AccessTokenClaims, type ClaimPolicy } from './claims.ts';
import { parseAccessToken, verifySignature, verifySignatureAsync } from './jws/verify-signature.ts';
import { JwksCache } from './keys/jwks-cache.ts';
import { RevocationFeed, type UnreachablePolicy } from './revocations/revocation-feed.ts';

/** A duration: seconds as a number, or text such as `30s`, `15m` (as in Tessera's configuration). */
export type Duration = number | string;

export interface VerifierOptions {
  /** The `iss` of Tessera's tokens (`TESSERA_ISSUER`). */
  issuer: string;
  /** This service's expected `aud` (`TESSERA_AUDIENCE`; by default the issuer). */
  audience: string;
  /** Where the public keys are; default `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /**
   * HS256 only: the secret shared with the auth server (`TESSERA_HS256_SECRET`, base64url, at
   * least 32 bytes). No JWKS is fetched then.
   */
  secret?: string | Buffer | KeyObject;
  /** Accepted `alg` values; default `RS256`, `ES256`, `EdDSA` (or `HS256` with `secret`). */
  algorithms?: AlgorithmName[];
  /** Leeway for `exp`, `nbf`, `iat`; default `30s`, as the server's. */
  clockSkew?: Duration;
  /** The auth server's access-token lifetime (`TESSERA_ACCESS_TTL`); longer-lived tokens are refused. Default `15m`. */
  maxTokenAge?: Duration;
  /**
   * `threadpool` (default) verifies RS256/ES256/EdDSA signatures with `crypto.verify`'s callback
   * form on libuv's pool; `sync` on the calling thread. One verification at a time, sync is faster
   * (the pool only adds a hop); with many in flight the pool runs signature checks on the second
   * core while this thread parses the next token (docs/benchmarks.md, "Sync or threadpool
   * verification"). Choose `sync` for one-at-a-time callers or single-core containers. HS256
   * always runs on the calling thread: an HMAC costs less than the hop.
   */
  signatureVerification?: 'sync' | 'threadpool';
  /** At most one JWKS fetch per this long because of unknown `kid`s; default `30s`. */
  jwksCooldown?: Duration;
  /** Subscribe to the auth server's revocation feed (SPEC §4). */
  revocations?: {
    /** The feed: `<issuer>/auth/revocations`. */
    url: string;
    /** With `refuse`, tokens are refused (503) while the feed is out of reach beyond `maxStaleness`. Default `serve-stale`. */
    onUnreachable?: UnreachablePolicy;
    /** Default `60s`. */
    maxStaleness?: Duration;
    /** Default `stream` (Server-Sent Events); `poll` polls every second. */
    transport?: 'stream' | 'poll';
  };
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
}

/** What `createVerifier` returns. */
export interface Verifier {
  /**
   * Resolves to the token's claims, or rejects with a `TesseraError`: `InvalidTokenError`,
   * `TokenExpiredError`, `TokenRevokedError`, or `UnavailableError` when no key could ever be
   * fetched (or the feed is stale under `refuse`).
   */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Stops the revocation feed and timers. */
  close(): Promise<void>;
}

const ASYMMETRIC: AlgorithmName[] = ['RS256', 'ES256', 'EdDSA'];

/**
 * Verifies Tessera access tokens locally. Checks run cheapest first and stop at the first
 * failure: compact form and sizes, header (`alg` allowed, `typ`, no unknown members, no keys
 * from the header), `kid` known, signature (the key's own algorithm), then `iss`, `aud`, `exp`,
 * `nbf`, `iat` with the leeway, then revocation.
 *
 * @example
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://auth.example.com',
 *   revocations: { url: 'https://auth.example.com/auth/revocations' },
 * });
 * const claims = await verifier.verify(token); // claims.sub, claims.role, claims.scope
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const policy: ClaimPolicy = {
    issuer: required(options.issuer, 'issuer'),
    audience: required(options.audience, 'audience'),
    clockSkew: seconds(options.clockSkew ?? 30, 'clockSkew'),
    maxTokenAge: seconds(options.maxTokenAge ?? '15m', 'maxTokenAge'),
  };
  const secretKey = options.secret === undefined ? undefined : hs256Key(options.secret);
  const algorithms = new Set(options.algorithms ?? (secretKey ? ['HS256' as const] : ASYMMETRIC));
  for (const alg of algorithms)
    if (!isAlgorithmName(alg)) throw new TypeError(`unsupported algorithm ${String(alg)}`);

  const findKey: (kid: string) => PreparedKey | undefined | Promise<PreparedKey | undefined> = secretKey
    ? () => secretKey // the HS256 secret is the one key, whatever the `kid`
    : jwksLookup(options, algorithms, now);
  const threadpool = (options.signatureVerification ?? 'threadpool') === 'threadpool';
  const feed = options.revocations && startFeed(options.revocations, now);

  return {
    async verify(token) {
      const parsed = parseAccessToken(token, algorithms);
      // Only a key miss or a thread-pool verification waits: the common path awaits nothing.
      const found = findKey(parsed.header.kid);
      const key = found instanceof Promise ? await found : found;
      // An HMAC costs less than the hop to the threadpool and back: always on this thread.
      if (threadpool && !(key && isSymmetric(key.alg))) await verifySignatureAsync(parsed, key);
      else verifySignature(parsed, key);
      const claims = checkClaims(parsed.payload, policy, now());
      if (feed) {
        const ready = feed.ready;
        if (ready) await ready;
        feed.check(claims.sid, claims.jti);
      }
      return claims;
    },
    async close() {
      await feed?.close();
    },
  };
}

function jwksLookup(
  options: VerifierOptions,
  algorithms: ReadonlySet<AlgorithmName>,
  now: () => number,
): (kid: string) => PreparedKey | undefined | Promise<PreparedKey | undefined> {
  const jwks = new JwksCache({
    url: options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
    algorithms,
    now,
    cooldownMs: seconds(options.jwksCooldown ?? 30, 'jwksCooldown') * 1000,
    timeoutMs: 5000,
  });
  // The hot path stays synchronous: only a miss waits for the network.
  return (kid) => jwks.peek(kid) ?? jwks.get(kid);
}

function startFeed(
  revocations: NonNullable<VerifierOptions['revocations']>,
  now: () => number,
): RevocationFeed {
  return new RevocationFeed({
    url: required(revocations.url, 'revocations.url'),
    onUnreachable: revocations.onUnreachable ?? 'serve-stale',
    maxStalenessMs: seconds(revocations.maxStaleness ?? 60, 'revocations.maxStaleness') * 1000,
    transport: revocations.transport ?? 'stream',
    pollIntervalMs: 1000,
    now,
  });
}

function hs256Key(secret: string | Buffer | KeyObject): PreparedKey {
  const key =
    typeof secret === 'object' && 'type' in secret && !Buffer.isBuffer(secret)
      ? secret
      : createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'base64url') : secret);
  const prepared = prepareKey('HS256', key);
  // RFC 7518 §3.2 (ATTACKS ALG-10): a short secret is an operator error, reported at start.
  if (!prepared) throw new TypeError('secret must be an HS256 secret of at least 32 bytes');
  return prepared;
}

function seconds(value: Duration, name: string): number {
  const parsed = typeof value === 'number' ? value : parseDuration(value);
  if (parsed === undefined || !Number.isFinite(parsed) || parsed < 0)
    throw new TypeError(`${name} is not a duration`);
  return parsed;
}

function required(value: string, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} is required`);
  return value;
}
