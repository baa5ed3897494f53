import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { keyFits } from '@tessera/verifier/tokens';

/** The signing algorithms Tessera issues tokens with (SPEC §2). */
export type AlgorithmName = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/** Everything the rest of the server needs to know about one algorithm, resolved once. */
export interface Algorithm {
  readonly name: AlgorithmName;
  /** Symmetric keys are never published in the JWKS (RFC 7517 §4; ATTACKS JWKS-01). */
  readonly symmetric: boolean;
  /** Fresh key material: a private/public pair, or one secret used for both. */
  generate(): { privateKey: KeyObject; publicKey: KeyObject };
  /**
   * Whether a key object is the right kind for this algorithm (RFC 8725 §3.1: one key, one alg).
   * The verifier's table decides, so what the server signs with is what verifiers accept.
   */
  fits(key: KeyObject): boolean;
}

const asymmetric = (
  name: AlgorithmName,
  generate: () => { privateKey: KeyObject; publicKey: KeyObject },
  fits: (key: KeyObject) => boolean,
): Algorithm => ({ name, symmetric: false, generate, fits });

// One table for every algorithm. A Map, so a hostile `alg` such as "__proto__" or "toString" is
// simply absent rather than an inherited property (STYLE habit 1).
const ALGORITHMS: ReadonlyMap<string, Algorithm> = new Map<string, Algorithm>([
  [
    'RS256',
    asymmetric(
      'RS256',
      () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }),
      (key) => keyFits('RS256', key),
    ),
  ],
  [
    'ES256',
    asymmetric(
      'ES256',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      (key) => keyFits('ES256', key),
    ),
  ],
  [
    'EdDSA',
    asymmetric(
      'EdDSA',
      () => generateKeyPairSync('ed25519'),
      (key) => keyFits('EdDSA', key),
    ),
  ],
  [
    'HS256',
    {
      name: 'HS256',
      symmetric: true,
      generate() {
        const secret = createSecretKey(randomBytes(32));
        return { privateKey: secret, publicKey: secret };
      },
      fits: (key) => keyFits('HS256', key),
    },
  ],
]);

/** Whether `name` is an algorithm Tessera supports. */
export function isAlgorithmName(name: unknown): name is AlgorithmName {
  return typeof name === 'string' && ALGORITHMS.has(name);
}

/** The resolved algorithm entry; `undefined` for anything not in the table (including `none`). */
export function getAlgorithm(name: unknown): Algorithm | undefined {
  return typeof name === 'string' ? ALGORITHMS.get(name) : undefined;
}
