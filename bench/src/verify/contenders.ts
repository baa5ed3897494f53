import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { rawVerifier } from './raw.ts';
import { AUDIENCE, ISSUER, type TokenSet } from './tokens.ts';

/** One way of verifying a token, as the benchmark calls it. */
export interface Contender {
  name: string;
  /** `sync` returns the claims; `async` returns a promise of them. */
  mode: 'sync' | 'async';
  /** Reported apart from the others: a result cache is not a verification. */
  cache?: boolean;
  verify(token: string): unknown;
}

/** The contenders for one algorithm, all verifying the same tokens with the same checks. */
export interface ContenderSet {
  contenders: Contender[];
  close(): Promise<void>;
}

/**
 * Builds every contender for `set.alg`. Each gets the key in the form its documentation
 * recommends for speed (a `KeyObject`, or PEM for fast-jwt, which builds its key object once) and
 * checks `iss`, `aud`, `exp` and `alg`, so a faster row never means a laxer one.
 */
export async function buildContenders(set: TokenSet, jwksUrl: string | undefined): Promise<ContenderSet> {
  const { alg, key, keyText, secret } = set;
  const raw = rawVerifier(alg, key, { issuer: ISSUER, audience: AUDIENCE });
  const tessera = (signatureVerification: 'sync' | 'threadpool'): Verifier =>
    createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: [alg],
      signatureVerification,
      ...(secret ? { secret } : { jwksUrl }),
    });
  const tesseraSync = tessera('sync');
  const tesseraPool = tessera('threadpool');
  const fastJwt = (cache: number | false) =>
    createFastJwtVerifier({
      key: keyText,
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      cache,
    });
  const fastJwtNoCache = fastJwt(false);
  const fastJwtCache = fastJwt(set.tokens.length + 1);

  const contenders: Contender[] = [
    { name: 'raw node:crypto (sync)', mode: 'sync', verify: (token) => raw.sync(token) },
    { name: 'raw node:crypto (callback)', mode: 'async', verify: (token) => raw.async(token) },
    { name: 'tessera verifier (sync)', mode: 'async', verify: (token) => tesseraSync.verify(token) },
    { name: 'tessera verifier (threadpool)', mode: 'async', verify: (token) => tesseraPool.verify(token) },
    {
      name: 'jose jwtVerify',
      mode: 'async',
      verify: (token) => jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] }),
    },
    {
      name: 'fast-jwt (cache off)',
      mode: 'sync',
      verify: (token): unknown => fastJwtNoCache(token) as unknown,
    },
  ];
  // jsonwebtoken 9 has no EdDSA: that row is absent, not zero.
  if (alg !== 'EdDSA') {
    contenders.push({
      name: 'jsonwebtoken',
      mode: 'sync',
      verify: (token) =>
        jsonwebtoken.verify(token, key, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }),
    });
  }
  contenders.push({
    name: 'fast-jwt (cache on)',
    mode: 'sync',
    cache: true,
    verify: (token): unknown => fastJwtCache(token) as unknown,
  });

  return {
    contenders,
    async close() {
      await Promise.all([tesseraSync.close(), tesseraPool.close()]);
    },
  };
}
