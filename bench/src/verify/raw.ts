import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmName } from '@tessera/verifier';
import { p1363ToDer } from '@tessera/verifier/tokens';

/** The claims the raw limit returns: what a route needs, after the same checks as everyone. */
export interface RawClaims {
  sub: string;
  sid: string;
  role: string;
  exp: number;
}

/** A raw verification; `sync` on the calling thread, `async` through `crypto.verify`'s callback. */
export interface RawVerifier {
  sync(token: string): RawClaims;
  async(token: string): Promise<RawClaims>;
}

/** What the raw limit checks the claims against: Tessera's defaults (30 s leeway, 15 min TTL). */
export interface RawPolicy {
  issuer: string;
  audience: string;
  clockSkew?: number;
  maxTokenAge?: number;
}

/**
 * The limit every verifier is measured against: the least work that still deserves the name —
 * split the compact JWS, decode the header and check `alg` and `typ`, verify the signature with a
 * bare key object built once (ES256 signatures converted to DER), parse the payload, then the
 * claim checks Tessera makes (types of the required claims, `iss`, `aud`, `exp`, `nbf`, `iat`
 * with the leeway, `exp − iat` at most the TTL). No structural hardening (canonical base64url,
 * header allow-list, duplicate members), no `kid` lookup, no typed errors: that is what a library
 * adds, and the ratio to this shows what it costs.
 */
export function rawVerifier(alg: AlgorithmName, key: KeyObject, policy: RawPolicy): RawVerifier {
  const digest = alg === 'EdDSA' ? null : 'sha256';
  const { issuer, audience, clockSkew = 30, maxTokenAge = 900 } = policy;
  // The key goes to `crypto.verify` bare: an options object around it costs on every call.
  const toNative = alg === 'ES256' ? p1363ToDer : (signature: Buffer) => signature;

  const split = (token: string): { data: Buffer; signature: Buffer; payload: string } => {
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    if (first <= 0 || last === first) throw new Error('not a compact JWS');
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as {
      alg?: unknown;
      typ?: unknown;
    };
    if (header.alg !== alg || header.typ !== 'at+jwt') throw new Error('alg/typ');
    return {
      data: Buffer.from(token.slice(0, last)),
      signature: Buffer.from(token.slice(last + 1), 'base64url'),
      payload: token.slice(first + 1, last),
    };
  };
  const claims = (payload: string): RawClaims => {
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const { exp, iat, nbf, sub, jti, sid, role, scope, iss, aud } = parsed;
    if (!Number.isSafeInteger(exp) || !Number.isSafeInteger(iat) || !Number.isSafeInteger(nbf))
      throw new Error('times');
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string') throw new Error('ids');
    if ((role !== 'user' && role !== 'admin') || typeof scope !== 'string') throw new Error('role/scope');
    if (iss !== issuer) throw new Error('iss');
    if (Array.isArray(aud) ? !aud.includes(audience) : aud !== audience) throw new Error('aud');
    const now = Date.now() / 1000;
    const e = exp as number;
    const i = iat as number;
    if (now >= e + clockSkew) throw new Error('expired');
    if ((nbf as number) > now + clockSkew || i > now + clockSkew) throw new Error('not yet valid');
    if (e <= i || e - i > maxTokenAge) throw new Error('ttl');
    return { sub, sid, role, exp: e };
  };
  const native = (signature: Buffer): Buffer => {
    const converted = toNative(signature);
    if (!converted) throw new Error('signature length');
    return converted;
  };
  const hmacValid = (data: Buffer, signature: Buffer): boolean => {
    const expectedMac = createHmac('sha256', key).update(data).digest();
    return signature.length === expectedMac.length && timingSafeEqual(signature, expectedMac);
  };

  return {
    sync(token) {
      const { data, signature, payload } = split(token);
      const valid =
        alg === 'HS256' ? hmacValid(data, signature) : verify(digest, data, key, native(signature));
      if (!valid) throw new Error('signature');
      return claims(payload);
    },
    async async(token) {
      const { data, signature, payload } = split(token);
      // HMAC has no callback form in node:crypto; it is cheap enough that the threadpool would not pay.
      const valid =
        alg === 'HS256'
          ? hmacValid(data, signature)
          : await new Promise<boolean>((resolve, reject) =>
              verify(digest, data, key, native(signature), (error, ok) =>
                error ? reject(error) : resolve(ok),
              ),
            );
      if (!valid) throw new Error('signature');
      return claims(payload);
    },
  };
}
