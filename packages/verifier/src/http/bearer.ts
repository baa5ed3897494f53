import { InvalidRequestError, InvalidTokenError } from '@tessera/protocol';
import { MAX_TOKEN_LENGTH } from '../jws/precheck.ts';

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
// (RFC 9110 §11.1); a tab or an empty token is malformed.
const CREDENTIALS = /^([A-Za-z]+) +(\S*)$/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** No credentials at all: RFC 6750 §3.1 says the challenge then carries no `error` attribute. */
export class MissingCredentialsError extends InvalidTokenError {
  constructor() {
    super('Authentication required: send Authorization: Bearer <access token>');
    this.name = 'MissingCredentialsError';
  }
}

/** The parts of a request the bearer token is read from, whatever the framework. */
export interface BearerSource {
  /** Every `Authorization` field value as received (Node's `headersDistinct.authorization`). */
  authorization: readonly string[] | undefined;
  /** Whether the URL also carries `access_token`. */
  queryToken: boolean;
}

/**
 * The bearer token from the `Authorization` header only, never from the query string or a body
 * (RFC 6750 §2.3; ATTACKS HTTP-07, HTTP-08). Throws `MissingCredentialsError` when there is none
 * (another scheme counts as none), and `InvalidRequestError` (400) for two `Authorization` fields
 * or a query token besides the header, which a proxy and this service might read differently
 * (HTTP-05, HTTP-06).
 */
export function readBearerToken({ authorization = [], queryToken }: BearerSource): string {
  if (authorization.length > 1) throw new InvalidRequestError('Send exactly one Authorization header');
  const header = authorization[0];
  if (header === undefined) throw new MissingCredentialsError();
  if (queryToken) throw new InvalidRequestError('Send the access token in one place only');
  const match = CREDENTIALS.exec(header);
  if (!match) throw new InvalidRequestError('Authorization header must be "Bearer <token>"');
  const [, scheme = '', token = ''] = match;
  if (scheme.toLowerCase() !== 'bearer') throw new MissingCredentialsError();
  if (token.length === 0) throw new InvalidRequestError('Authorization header must be "Bearer <token>"');
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) throw new InvalidTokenError();
  return token;
}
