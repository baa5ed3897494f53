import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { JWK } from 'jose';
import { UnavailableError } from '@tessera/protocol';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit.ts';
import type { KeyRecord, Store } from '../stores/store.ts';
import { getAlgorithm, type Algorithm, type AlgorithmName } from './algorithms.ts';

/** At most one store read per this long for tokens naming an unknown kid. */
const UNKNOWN_KID_COOLDOWN_MS = 5_000;

/** How long verifiers may cache the JWKS; a new key is published at least this long before it signs. */
export const JWKS_MAX_AGE_SECONDS = 300;

/** A key ready for use: parsed once, never per request. */
export interface SigningKey {
  readonly kid: string;
  readonly algorithm: Algorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK | null;
  readonly activatesAt: number;
  readonly retiresAt: number | null;
}

export interface KeyringOptions {
  alg: AlgorithmName;
  /** Operator-supplied HS256 secret, used instead of a generated one. */
  hs256Secret?: Buffer | undefined;
  /** Seconds a retired key stays published after its successor activates: the access TTL plus skew. */
  retireAfterSeconds: number;
}

/**
 * The signing keys, loaded from the store. Keys are generated on first start (or when the
 * configured algorithm has none), kept in the database so restarts and other instances sign
 * with the same key, and rotated by publishing the next key before it signs and keeping the old
 * one published until every token it signed has expired.
 */
export class Keyring {
  readonly #store: Store;
  readonly #options: KeyringOptions;
  #keys = new Map<string, SigningKey>();
  #lastUnknownKidReload = Number.NEGATIVE_INFINITY;

  constructor(store: Store, options: KeyringOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** The one algorithm this server signs and accepts. */
  get signingAlgorithm(): AlgorithmName {
    return this.#options.alg;
  }

  /** Reloads every key from the store (picks up rotations done by the CLI or another instance). */
  async load(): Promise<void> {
    const keys = new Map<string, SigningKey>();
    for (const record of await this.#store.keys.list()) {
      const key = parseKey(record);
      if (key) keys.set(key.kid, key);
    }
    this.#keys = keys;
  }

  /**
   * Reloads the keys when a token names a kid we do not know, at most once per cooldown; true when
   * it reloaded. Two instances starting together on an empty store each create a first key, and a
   * rotation made elsewhere lands between reloads: neither should refuse the other's tokens.
   */
  async reloadForUnknownKid(now: number): Promise<boolean> {
    if (now - this.#lastUnknownKidReload < UNKNOWN_KID_COOLDOWN_MS) return false;
    this.#lastUnknownKidReload = now;
    await this.load();
    return true;
  }

  /** Makes sure the configured algorithm has a key that signs now; generates one if not. */
  async ensureSigningKey(now: number): Promise<void> {
    await this.load();
    const active = this.#activeKey(now);
    const secret = this.#options.hs256Secret;
    if (active && (this.#options.alg !== 'HS256' || !secret || sameSecret(active, secret))) return;
    // First start, a switch of algorithm, or a new HS256 secret: the server's own configuration
    // says so, so keys of any other algorithm retire too (after their tokens have expired).
    await this.#addKey(now, now, { retireOtherAlgorithms: true });
    await this.load();
  }

  /** The algorithm of the key that signs in this store now, whatever this process is configured for. */
  storeAlgorithm(now: number): AlgorithmName | undefined {
    let newest: SigningKey | undefined;
    for (const key of this.#keys.values()) {
      if (key.activatesAt > now || !isPublished(key, now)) continue;
      if (!newest || key.activatesAt >= newest.activatesAt) newest = key;
    }
    return newest?.algorithm.name;
  }

  /**
   * Publishes a new key that starts signing at `activatesAt`; current keys retire after that.
   * Audited as `key_rotated` by `by` (the CLI passes `CLI_ACTOR`).
   */
  async rotate(now: number, activatesAt: number, by: Actor = SYSTEM_ACTOR): Promise<SigningKey> {
    await this.load();
    const kid = await this.#addKey(now, activatesAt, { retireOtherAlgorithms: false });
    await this.load();
    const key = this.#keys.get(kid);
    if (!key) throw new Error('rotated key did not load');
    const detail = { kid, alg: key.algorithm.name, activatesAt: new Date(activatesAt).toISOString() };
    await recordAudit(this.#store, { action: 'key_rotated', actor: by, subject: null, detail }, now);
    return key;
  }

  /**
   * Scheduled rotation: once the signing key has signed for `periodMs`, less the JWKS cache time,
   * publish its successor to start signing a cache time later — so the key changes every period
   * and no verifier sees a kid it has not fetched. Nothing happens while a successor is already
   * pending (another instance, or the CLI, got there first). HS256 with an operator-supplied
   * secret is rotated by the operator changing it. Returns the new key, or `null`.
   */
  async rotateIfDue(now: number, periodMs: number): Promise<SigningKey | null> {
    if (periodMs <= 0 || (this.#options.alg === 'HS256' && this.#options.hs256Secret)) return null;
    await this.load();
    const active = this.#activeKey(now);
    if (!active) return null;
    const pending = [...this.#keys.values()].some(
      (key) => key.algorithm.name === this.#options.alg && key.activatesAt > now && isPublished(key, now),
    );
    const aheadMs = JWKS_MAX_AGE_SECONDS * 1000;
    if (pending || now - active.activatesAt < periodMs - aheadMs) return null;
    return this.rotate(now, now + aheadMs);
  }

  /** The key that signs at `now`: the newest activated, unretired key of the configured algorithm. */
  signingKey(now: number): SigningKey {
    const key = this.#activeKey(now);
    // Not a client's fault and not permanent (another instance or the CLI may add one): 503.
    if (!key)
      throw new UnavailableError(5, { cause: new Error(`no active ${this.#options.alg} signing key`) });
    return key;
  }

  /**
   * The key for a token's `kid`, or `undefined`. Only keys of the configured algorithm that are
   * still published count: a token's own header never chooses the algorithm (RFC 8725 §3.1).
   */
  verificationKey(kid: string, now: number): SigningKey | undefined {
    const key = this.#keys.get(kid);
    if (!key || key.algorithm.name !== this.#options.alg) return undefined;
    return isPublished(key, now) ? key : undefined;
  }

  /** The public JWK Set: asymmetric, published keys only (never `d`, never `oct`: JWKS-01). */
  jwks(now: number): { keys: JWK[] } {
    const keys: JWK[] = [];
    for (const key of this.#keys.values()) {
      if (key.publicJwk && isPublished(key, now)) keys.push(key.publicJwk);
    }
    return { keys };
  }

  /** Every loaded key, for `tessera keys list`. */
  list(): SigningKey[] {
    return [...this.#keys.values()];
  }

  #activeKey(now: number): SigningKey | undefined {
    let newest: SigningKey | undefined;
    for (const key of this.#keys.values()) {
      if (key.algorithm.name !== this.#options.alg || key.activatesAt > now || !isPublished(key, now))
        continue;
      if (!newest || key.activatesAt >= newest.activatesAt) newest = key;
    }
    return newest;
  }

  async #addKey(
    now: number,
    activatesAt: number,
    { retireOtherAlgorithms }: { retireOtherAlgorithms: boolean },
  ): Promise<string> {
    const algorithm = getAlgorithm(this.#options.alg);
    if (!algorithm) throw new Error(`unsupported algorithm ${this.#options.alg}`);
    const secret = this.#options.hs256Secret;
    const pair =
      algorithm.symmetric && secret
        ? { privateKey: createSecretKey(secret), publicKey: createSecretKey(secret) }
        : algorithm.generate();
    const kid = randomBytes(12).toString('base64url');
    const publicJwk = algorithm.symmetric
      ? null
      : { ...pair.publicKey.export({ format: 'jwk' }), kid, alg: algorithm.name, use: 'sig' };
    const record: KeyRecord = {
      kid,
      alg: algorithm.name,
      privateJwk: JSON.stringify(pair.privateKey.export({ format: 'jwk' })),
      publicJwk: publicJwk ? JSON.stringify(publicJwk) : null,
      createdAt: now,
      activatesAt,
      retiresAt: null,
    };
    // Every key that signs today keeps being published until the last token it could sign has
    // expired: its successor's activation plus the access-token lifetime and leeway.
    const retiresAt = activatesAt + this.#options.retireAfterSeconds * 1000;
    // A key still pending (it has signed nothing) that would activate no earlier than this one
    // (`keys rotate`, then `keys rotate --now`) is superseded: it retires when this one activates.
    // Otherwise, being the newest by activation, it would take over signing later and then be
    // unpublished at `retiresAt` while the tokens it signed were still valid.
    const superseded = (key: SigningKey): boolean => key.activatesAt > now && key.activatesAt >= activatesAt;
    // A rotation replaces keys of its own algorithm only: an operator running `keys rotate` with
    // another TESSERA_SIGNING_ALG must not retire the key the servers sign with.
    const retire = [...this.#keys.values()]
      .filter((key) => retireOtherAlgorithms || key.algorithm.name === algorithm.name)
      .map((key) => ({ key, until: superseded(key) ? activatesAt : retiresAt }))
      .filter(({ key, until }) => key.retiresAt === null || key.retiresAt > until)
      .map(({ key, until }) => ({ kid: key.kid, retiresAt: until }));
    await this.#store.keys.add(record, retire);
    return kid;
  }
}

function isPublished(key: SigningKey, now: number): boolean {
  return key.retiresAt === null || key.retiresAt > now;
}

function sameSecret(key: SigningKey, secret: Buffer): boolean {
  const current = key.privateKey.export();
  return current.length === secret.length && timingSafeEqual(current, secret);
}

function parseKey(record: KeyRecord): SigningKey | undefined {
  const algorithm = getAlgorithm(record.alg);
  if (!algorithm) return undefined;
  const privateJwk = JSON.parse(record.privateJwk) as JWK;
  const privateKey = algorithm.symmetric
    ? createSecretKey(Buffer.from(privateJwk.k ?? '', 'base64url'))
    : createPrivateKey({ key: privateJwk, format: 'jwk' });
  const publicKey = algorithm.symmetric ? privateKey : createPublicKey(privateKey);
  if (!algorithm.fits(publicKey)) return undefined;
  return {
    kid: record.kid,
    algorithm,
    privateKey,
    publicKey,
    publicJwk: record.publicJwk ? (JSON.parse(record.publicJwk) as JWK) : null,
    activatesAt: record.activatesAt,
    retiresAt: record.retiresAt,
  };
}
