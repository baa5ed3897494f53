import { createPublicKey, type JsonWebKey } from 'node:crypto';
import {
  isAlgorithmName,
  isSymmetric,
  prepareKey,
  type AlgorithmName,
  type PreparedKey,
} from '../algorithms.ts';

/**
 * Turns a JWK Set into verification keys by `kid`, each bound to the algorithm its own `alg`
 * names. Keys are built once here, never per token. Skipped, not trusted: keys without a `kid` or
 * an allowed asymmetric `alg`, keys not for signatures, symmetric keys (a JWKS is public, so an
 * `oct` key in it would be a key anyone can sign with: ATTACKS JWKS-01), and keys that do not fit
 * their `alg` (an RSA key labelled ES256, a 1024-bit modulus).
 */
export function keysFromJwks(body: unknown, allowed: ReadonlySet<AlgorithmName>): Map<string, PreparedKey> {
  const keys = new Map<string, PreparedKey>();
  const list = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
  for (const jwk of list as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kid, alg, use, kty } = jwk as Record<string, unknown>;
    if (typeof kid !== 'string' || kid.length === 0 || keys.has(kid)) continue;
    if (!isAlgorithmName(alg) || isSymmetric(alg) || !allowed.has(alg) || kty === 'oct') continue;
    if (use !== undefined && use !== 'sig') continue;
    let prepared: PreparedKey | undefined;
    try {
      prepared = prepareKey(alg, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    } catch {
      continue; // malformed key material: that key is unusable, the others still count
    }
    if (prepared) keys.set(kid, prepared);
  }
  return keys;
}
