import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmName } from '@tessera/verifier';
import { p1363ToDer } from './ecdsa-der.ts';

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

/**
 * The limit every verifier is measured against: the least work that still deserves the name —
 * split the compact JWS, decode the header and check `alg`, verify the signature with a bare key
 * object built once (ES256 signatures converted to DER), parse the payload, check `iss`, `aud`, `exp`. No structural hardening, no typed
 * errors: that is what a library adds, and the ratio to this shows what it costs.
 */
export function rawVerifier(
  alg: AlgorithmName,
  key: KeyObject,
  expected: { issuer: string; audience: string },
): RawVerifier {
  const digest = alg === 'EdDSA' ? null : 'sha256';
  // The key goes to `crypto.verify` bare: any options object around it costs (ecdsa-der.ts).
  const toNative = alg === 'ES256' ? p1363ToDer : (signature: Buffer) => signature;

  const split = (token: string): { data: Buffer; signature: Buffer; payload: string } => {
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    if (first <= 0 || last === first) throw new Error('not a compact JWS');
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as {
      alg?: unknown;
    };
    if (header.alg !== alg) throw new Error('alg');
    return {
      data: Buffer.from(token.slice(0, last)),
      signature: Buffer.from(token.slice(last + 1), 'base64url'),
      payload: token.slice(first + 1, last),
    };
  };
  const claims = (payload: string): RawClaims => {
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    if (parsed['iss'] !== expected.issuer || parsed['aud'] !== expected.audience) throw new Error('iss/aud');
    const exp = parsed['exp'];
    if (typeof exp !== 'number' || exp * 1000 <= Date.now()) throw new Error('expired');
    return { sub: String(parsed['sub']), sid: String(parsed['sid']), role: String(parsed['role']), exp };
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
