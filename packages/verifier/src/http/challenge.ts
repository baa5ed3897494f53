import {
  InsufficientUserAuthenticationError,
  TesseraError,
  type ErrorBody,
  type ErrorCode,
} from '@tessera/protocol';
import { MissingCredentialsError } from './bearer.ts';

/** The HTTP answer to a failed authentication, for any framework to send as is. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

const TOKEN_ERRORS: ReadonlySet<ErrorCode> = new Set(['invalid_token', 'token_expired', 'token_revoked']);

/**
 * The `WWW-Authenticate` challenge for an error (RFC 6750 §3): token failures say
 * `invalid_token` whatever the finer code in the body; a missing token says only the realm.
 */
export function bearerChallenge(error: TesseraError, realm: string): string {
  let challenge = `Bearer realm="${realm}"`;
  if (error instanceof MissingCredentialsError) return challenge;
  const attribute = TOKEN_ERRORS.has(error.code)
    ? 'invalid_token'
    : error.code === 'insufficient_scope' ||
        error.code === 'invalid_request' ||
        error.code === 'insufficient_user_authentication'
      ? error.code
      : null;
  if (attribute)
    challenge += `, error="${attribute}", error_description="${error.message.replaceAll('"', "'")}"`;
  // RFC 9470 §3: the age the sign-in may have, so the client asks for a fresh one.
  if (error instanceof InsufficientUserAuthenticationError && error.maxAge !== undefined)
    challenge += `, max_age="${error.maxAge}"`;
  return challenge;
}

/**
 * The response for any failure of `verify`, the bearer parsing or `authorize`: `{error, message}`
 * with the stable code (SPEC §4). Anything that is not a `TesseraError` is a bug in the caller's
 * setup and answers a generic 500 with no detail (ASVS 16.5.1).
 */
export function errorResponse(error: unknown, realm: string): ErrorResponse {
  const failure =
    error instanceof TesseraError ? error : new TesseraError('server_error', undefined, { cause: error });
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (failure.status === 401 || failure.status === 403)
    headers['www-authenticate'] = bearerChallenge(failure, realm);
  if (failure.status === 503) headers['retry-after'] = String(retryAfter(failure));
  return { status: failure.status, headers, body: failure.toJSON() };
}

function retryAfter(error: TesseraError): number {
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : 5;
}
