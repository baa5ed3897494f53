import type { FastifyRequest } from 'fastify';
import { InvalidRequestError, InvalidTokenError } from '@tessera/protocol';
import { MissingCredentialsError, readBearerToken as parseBearer } from '@tessera/verifier';
import { MAX_TOKEN_LENGTH } from '@tessera/verifier/tokens';
import { ACCESS_COOKIE, readCookie } from './cookies.ts';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of a request, or `null` when there is none (another scheme counts as none).
 * The parsing is the verifier's, so this server and every resource server read `Authorization`
 * alike: header only, never the query string or a body, one header, `Bearer 1*SP b64token`
 * (RFC 6750 §2; ATTACKS HTTP-02..08).
 */
export function readBearerToken(request: FastifyRequest): string | null {
  try {
    return parseBearer({
      authorization: authorizationFields(request),
      queryToken: hasQueryToken(request),
    });
  } catch (error) {
    if (error instanceof MissingCredentialsError) return null;
    throw error;
  }
}

/** Where an access token came from: the `Authorization` header or the cookie-mode cookie. */
export interface PresentedToken {
  token: string;
  via: 'header' | 'cookie';
}

/**
 * The access token of a request, from the `Authorization` header or, in cookie mode, from the
 * access cookie; `null` when there is neither. Both at once is a malformed request (RFC 6750 §2:
 * one method only; ATTACKS HTTP-06).
 */
export function readAccessToken(request: FastifyRequest): PresentedToken | null {
  const header = readBearerToken(request);
  const cookie = readCookie(request, ACCESS_COOKIE);
  if (header !== null && cookie !== undefined) {
    throw new InvalidRequestError('Send the access token in one place only: header or cookie');
  }
  if (header !== null) return { token: header, via: 'header' };
  if (cookie === undefined) return null;
  if (cookie.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(cookie)) throw new InvalidTokenError();
  return { token: cookie, via: 'cookie' };
}

/** Like `readAccessToken`, but a missing token is a 401. */
export function requireAccessToken(request: FastifyRequest): PresentedToken {
  const presented = readAccessToken(request);
  if (presented === null) throw new MissingCredentialsError();
  return presented;
}

/**
 * Every `Authorization` field as received. Node's `headersDistinct` keeps duplicates that
 * `headers` folds away; Fastify's `inject` has no such property, so fall back to `headers` there
 * rather than fail.
 */
function authorizationFields(request: FastifyRequest): readonly string[] | undefined {
  const distinct = (request.raw.headersDistinct as Record<string, string[]> | undefined)?.['authorization'];
  if (distinct !== undefined) return distinct;
  const single = request.headers.authorization;
  return typeof single === 'string' ? [single] : undefined;
}

function hasQueryToken(request: FastifyRequest): boolean {
  const query = request.query;
  return typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token');
}
