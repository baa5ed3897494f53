/**
 * The stable error codes of the Tessera API, shared by the server, the verifier library and the
 * client SDK. A code never changes meaning once released; `docs/errors.md` documents each one and a
 * test keeps that page and this table in step.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, message: 'The request is malformed or fails validation' },
  invalid_credentials: { status: 401, message: 'Email or password is incorrect' },
  email_taken: { status: 409, message: 'An account with this email already exists' },
  invalid_grant: { status: 401, message: 'The refresh token is invalid, expired or revoked' },
  refresh_token_reused: {
    status: 401,
    message: 'The refresh token was already used; the session has been revoked',
  },
  session_expired: { status: 401, message: 'The session has expired; log in again' },
  token_expired: { status: 401, message: 'Access token has expired' },
  invalid_token: { status: 401, message: 'The access token is missing, malformed or invalid' },
  token_revoked: { status: 401, message: 'The session of this access token has been revoked' },
  insufficient_scope: { status: 403, message: 'The access token does not grant this operation' },
  insufficient_user_authentication: {
    status: 401,
    message: 'This operation needs a stronger or more recent sign-in',
  },
  invalid_link: {
    status: 400,
    message: 'The link is invalid, expired or already used; ask for a new one',
  },
  invalid_code: {
    status: 401,
    message: 'The code is wrong, expired or already used; ask for a new one',
  },
  email_not_verified: {
    status: 403,
    message: 'Verify your email address first: follow the link mailed to it',
  },
  mfa_required: {
    status: 403,
    message: 'A second factor is required: send a code with the mfaToken to /auth/mfa/verify',
  },
  mfa_unavailable: {
    status: 503,
    message: 'Two-factor authentication is not configured on this server (TESSERA_SECRET_KEY)',
  },
  csrf_failed: { status: 403, message: 'The request failed cross-site request forgery checks' },
  rate_limited: { status: 429, message: 'Too many requests; retry later' },
  not_found: { status: 404, message: 'Not found' },
  unavailable: { status: 503, message: 'The service is temporarily unavailable; retry later' },
  server_error: { status: 500, message: 'An unexpected error occurred' },
} as const satisfies Record<string, { status: number; message: string }>;

/** One of Tessera's stable snake_case error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is one of Tessera's error codes (safe against prototype keys like `toString`). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The JSON body of every Tessera error response. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
}
