import {
  createHmac,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
  type JsonWebKey,
} from 'node:crypto';
import { createSecretKey } from 'node:crypto';
import type { AlgorithmName } from '@tessera/verifier';

/** Every algorithm Tessera signs with, in the order the tables show them. */
export const ALGORITHMS: readonly AlgorithmName[] = ['RS256', 'ES256', 'EdDSA', 'HS256'];

/** Claims checked by every contender, so none wins by checking less. */
export const ISSUER = 'http://127.0.0.1/bench';
export const AUDIENCE = ISSUER;

/** One algorithm's key material and a set of distinct tokens signed with it. */
export interface TokenSet {
  alg: AlgorithmName;
  kid: string;
  /** The verification key, built once (the public key, or the HMAC secret). */
  key: KeyObject;
  /** The public key as a JWK with `kid`, `alg`, `use` (absent for HS256: never published). */
  jwk: JsonWebKey | undefined;
  /** PEM (or the raw secret) for libraries that take key text. */
  keyText: string | Buffer;
  /** The secret as base64url (HS256 only), as `TESSERA_HS256_SECRET` would hold it. */
  secret: string | undefined;
  tokens: string[];
}

/**
 * Signs `count` distinct Tessera-shaped access tokens (header `{alg, kid, typ: at+jwt}`, the claims
 * of RFC 9068 plus `sid`, `role`, `scope`). Distinct, so no contender can profit from a cache of
 * one token's result; valid for 15 minutes, the server's default TTL, so a full run stays inside it.
 */
export function makeTokenSet(alg: AlgorithmName, count: number, nowMs = Date.now()): TokenSet {
  const kid = `bench-${alg.toLowerCase()}`;
  const { signer, key, keyText, secret } = keysFor(alg);
  const header = Buffer.from(JSON.stringify({ alg, kid, typ: 'at+jwt' })).toString('base64url');
  const iat = Math.floor(nowMs / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const claims = {
      iss: ISSUER,
      sub: randomUUID(),
      aud: AUDIENCE,
      exp: iat + 900,
      iat,
      nbf: iat,
      jti: randomBytes(16).toString('base64url'),
      sid: randomUUID(),
      role: 'user',
      scope: 'profile sessions',
    };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    tokens.push(`${input}.${signer(Buffer.from(input)).toString('base64url')}`);
  }
  const jwk = alg === 'HS256' ? undefined : { ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, key, jwk, keyText, secret, tokens };
}

interface Keys {
  signer: (data: Buffer) => Buffer;
  key: KeyObject;
  keyText: string | Buffer;
  secret: string | undefined;
}

function keysFor(alg: AlgorithmName): Keys {
  if (alg === 'HS256') {
    const bytes = randomBytes(32);
    return {
      signer: (data) => createHmac('sha256', bytes).update(data).digest(),
      key: createSecretKey(bytes),
      keyText: bytes,
      secret: bytes.toString('base64url'),
    };
  }
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const digest = alg === 'EdDSA' ? null : 'sha256';
  // JWS carries ECDSA signatures as R‖S (RFC 7518 §3.4), not DER.
  const privateKey =
    alg === 'ES256' ? { key: pair.privateKey, dsaEncoding: 'ieee-p1363' as const } : pair.privateKey;
  return {
    signer: (data) => sign(digest, data, privateKey),
    key: pair.publicKey,
    keyText: pair.publicKey.export({ type: 'spki', format: 'pem' }),
    secret: undefined,
  };
}
