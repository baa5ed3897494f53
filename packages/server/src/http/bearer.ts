import type { FastifyRequest } from 'fastify';
import { InvalidRequestError, InvalidTokenError } from '@tessera/protocol';
import { MAX_TOKEN_LENGTH } from '../tokens/jws-precheck.ts';
import { ACCESS_COOKIE, readCookie } from './cookies.ts';
import { MissingCredentialsError } from './errors.ts';

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
// (RFC 9110 §11.1); a tab or an empty token is malformed.
const AUTHORIZATION = /^([A-Za-z]+) +(\S*)$/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of a request, from the `Authorization` header only: never from the query
 * string or the body (RFC 6750 §2.3; ATTACKS HTTP-07, HTTP-08). `null` when there is none.
 * Two `Authorization` headers, or a token in the URL as well, is a malformed request
 * (ATTACKS HTTP-05, HTTP-06): a proxy and Node might each pick a different one.
 */
export function readBearerToken(request: FastifyRequest): string | null {
  const values = request.raw.headersDistinct['authorization'] ?? [];
  if (values.length > 1) throw new InvalidRequestError('Send exactly one Authorization header');
  const header = values[0];
  if (header === undefined) return null;
  if (hasQueryToken(request)) throw new InvalidRequestError('Send the access token in one place only');
  const match = AUTHORIZATION.exec(header);
  if (!match) throw new InvalidRequestError('Authorization header must be "Bearer <token>"');
  const [, scheme, token] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() !== 'bearer') return null;
  if (token.length === 0) throw new InvalidRequestError('Authorization header must be "Bearer <token>"');
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) throw new InvalidTokenError();
  return token;
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

function hasQueryToken(request: FastifyRequest): boolean {
  const query = request.query;
  return typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token');
}
