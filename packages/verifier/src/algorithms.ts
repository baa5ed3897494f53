import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { p1363ToDer } from './jws/ecdsa-der.ts';

/** The signing algorithms Tessera issues tokens with (SPEC §2). */
export type AlgorithmName = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/**
 * A verification key bound to exactly one algorithm (RFC 8725 §3.1), with whatever `node:crypto`
 * needs built once: the key is passed to `crypto.verify` bare, never in an options object (which
 * costs per call), so ES256 signatures are converted to DER first (`p1363ToDer`).
 */
export interface PreparedKey {
  readonly alg: AlgorithmName;
  /** Synchronous: on the calling thread. `data` is the ASCII signing input. */
  verify(data: string, signature: Buffer): boolean;
  /** On libuv's threadpool (the callback form of `crypto.verify`), freeing the event loop. */
  verifyAsync(data: string, signature: Buffer): Promise<boolean>;
}

interface AlgorithmEntry {
  readonly name: AlgorithmName;
  /** Symmetric keys are never taken from a JWKS (RFC 7517 §4; ATTACKS JWKS-01). */
  readonly symmetric: boolean;
  /** Whether a key object is the right kind for this algorithm (RFC 8725 §3.1: one key, one alg). */
  fits(key: KeyObject): boolean;
  prepare(key: KeyObject): PreparedKey;
}

/**
 * `crypto.verify` never throws for a bad signature here: a malformed one is simply not valid.
 * `toNative` turns the JWS signature into what OpenSSL takes, `undefined` when it cannot be one.
 */
function asymmetric(
  name: AlgorithmName,
  digest: string | null,
  fits: (key: KeyObject) => boolean,
  toNative: (signature: Buffer) => Buffer | undefined = (signature) => signature,
): AlgorithmEntry {
  return {
    name,
    symmetric: false,
    fits,
    prepare(key) {
      return {
        alg: name,
        verify(data, signature) {
          const native = toNative(signature);
          if (!native) return false;
          try {
            return verify(digest, Buffer.from(data, 'latin1'), key, native);
          } catch {
            return false;
          }
        },
        verifyAsync(data, signature) {
          const native = toNative(signature);
          if (!native) return Promise.resolve(false);
          const bytes = Buffer.from(data, 'latin1');
          return new Promise((resolve) => {
            try {
              verify(digest, bytes, key, native, (error, valid) => resolve(!error && valid));
            } catch {
              resolve(false);
            }
          });
        },
      };
    },
  };
}

const hs256: AlgorithmEntry = {
  name: 'HS256',
  symmetric: true,
  // RFC 7518 §3.2: the key must be at least as long as the hash (ATTACKS ALG-10).
  fits: (key) => key.type === 'secret' && (key.symmetricKeySize ?? 0) >= 32,
  prepare(key) {
    const check = (data: string, signature: Buffer): boolean => {
      const expected = createHmac('sha256', key).update(data, 'latin1').digest();
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    };
    return { alg: 'HS256', verify: check, verifyAsync: async (data, signature) => check(data, signature) };
  },
};

// One table for every algorithm. A Map, so a hostile `alg` such as "__proto__" or "toString" is
// simply absent rather than an inherited property (STYLE habit 1).
const ALGORITHMS: ReadonlyMap<string, AlgorithmEntry> = new Map<string, AlgorithmEntry>([
  [
    'RS256',
    asymmetric(
      'RS256',
      'sha256',
      (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
    ),
  ],
  [
    'ES256',
    asymmetric(
      'ES256',
      'sha256',
      (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
      // JWS carries R‖S (RFC 7518 §3.4); a DER signature in the token must fail (ATTACKS ALG-12).
      p1363ToDer,
    ),
  ],
  ['EdDSA', asymmetric('EdDSA', null, (key) => key.asymmetricKeyType === 'ed25519')],
  ['HS256', hs256],
]);

/** Whether `name` is an algorithm Tessera supports. */
export function isAlgorithmName(name: unknown): name is AlgorithmName {
  return typeof name === 'string' && ALGORITHMS.has(name);
}

/** Whether `key` is a proper key for `alg` (type, curve, size). */
export function keyFits(alg: AlgorithmName, key: KeyObject): boolean {
  return ALGORITHMS.get(alg)?.fits(key) ?? false;
}

/** Whether `alg` uses a shared secret rather than a key pair. */
export function isSymmetric(alg: AlgorithmName): boolean {
  return ALGORITHMS.get(alg)?.symmetric ?? false;
}

/**
 * Binds `key` to `alg` for verification; `undefined` when the key does not fit the algorithm
 * (an RSA key offered for ES256, a short HMAC secret), so a mismatch can never reach the crypto.
 */
export function prepareKey(alg: AlgorithmName, key: KeyObject): PreparedKey | undefined {
  const entry = ALGORITHMS.get(alg);
  if (!entry || !entry.fits(key)) return undefined;
  return entry.prepare(key);
}
