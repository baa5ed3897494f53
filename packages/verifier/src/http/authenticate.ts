import { authorize, type Requirements } from '../authorize.ts';
import type { AccessTokenClaims } from '../claims.ts';
import type { Verifier } from '../verifier.ts';
import { readBearerToken, type BearerSource } from './bearer.ts';
import { errorResponse, type ErrorResponse } from './challenge.ts';

/** Options shared by every middleware. */
export interface AuthOptions extends Requirements {
  verifier: Verifier;
  /** The `realm` of the `WWW-Authenticate` challenge; default `tessera`. */
  realm?: string;
  /** Milliseconds since the epoch, for `maxAge`; for tests. */
  now?: () => number;
}

/** Either the request's claims, or the response to send instead. */
export type AuthOutcome = { ok: true; claims: AccessTokenClaims } | { ok: false; response: ErrorResponse };

/**
 * The framework-independent core of every middleware: read the bearer token, verify it, check
 * the route's requirements. Never throws.
 */
export async function authenticate(source: BearerSource, options: AuthOptions): Promise<AuthOutcome> {
  try {
    const claims = await options.verifier.verify(readBearerToken(source));
    authorize(claims, options, options.now?.() ?? Date.now());
    return { ok: true, claims };
  } catch (error) {
    return { ok: false, response: errorResponse(error, options.realm ?? 'tessera') };
  }
}

/** Whether a request target (`/path?query`) has an `access_token` query parameter. */
export function hasQueryToken(target: string | undefined): boolean {
  const query = target?.split('?', 2)[1];
  return query !== undefined && new URLSearchParams(query).has('access_token');
}
