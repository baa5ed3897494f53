import { ERROR_CODES, type ErrorCode } from './error-codes.ts';

/**
 * Base of every error Tessera reports to a client. `code` and `status` go on the wire; the
 * `message` is a human sentence safe to show; anything internal belongs in `cause`, which is
 * never serialised (ASVS 16.5.1: no internals in responses).
 */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = 'TesseraError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }

  /** The response body: exactly `{ error, message }`, nothing else. */
  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

/** Request body, parameters or headers fail validation (400; 413/415 for size and media type). */
export class InvalidRequestError extends TesseraError {
  override readonly status: number;
  constructor(message?: string, options?: ErrorOptions & { status?: 400 | 405 | 413 | 415 | 431 }) {
    super('invalid_request', message, options);
    this.name = 'InvalidRequestError';
    this.status = options?.status ?? 400;
  }
}

/** Login or password check failed; never says whether the email exists. */
export class InvalidCredentialsError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('invalid_credentials', undefined, options);
    this.name = 'InvalidCredentialsError';
  }
}

/** Sign-up with an email that already has an account. */
export class EmailTakenError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('email_taken', undefined, options);
    this.name = 'EmailTakenError';
  }
}

/**
 * An emailed link's token (password reset) is unknown, used, expired, or was issued before the
 * account's password or email changed. Says nothing about which (SECURITY.md REC-02).
 */
export class InvalidLinkError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('invalid_link', undefined, options);
    this.name = 'InvalidLinkError';
  }
}

/**
 * A sign-in code is wrong, expired, used, dead after too many tries, or there is none for the
 * address (or no such account). Says nothing about which (SECURITY.md REC-10).
 */
export class InvalidCodeError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('invalid_code', undefined, options);
    this.name = 'InvalidCodeError';
  }
}

/**
 * The first factor passed, and the account has a second one: no session yet. The body carries,
 * besides `error` and `message`, the `mfaToken` that `POST /auth/mfa/verify` takes with a code,
 * and the `methods` it accepts. The one error whose body has more than `{ error, message }`.
 */
export class MfaRequiredError extends TesseraError {
  readonly mfaToken: string;
  readonly methods: readonly MfaMethod[];

  constructor(mfaToken: string, methods: readonly MfaMethod[], options?: ErrorOptions) {
    super('mfa_required', undefined, options);
    this.name = 'MfaRequiredError';
    this.mfaToken = mfaToken;
    this.methods = methods;
  }

  override toJSON(): { error: ErrorCode; message: string; mfaToken: string; methods: MfaMethod[] } {
    return { ...super.toJSON(), mfaToken: this.mfaToken, methods: [...this.methods] };
  }
}

/** What `POST /auth/mfa/verify` accepts as the second step. */
export type MfaMethod = 'totp' | 'recovery_code';

/** Enrolling a factor needs a key to seal its secret, and this deployment has none. */
export class MfaUnavailableError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('mfa_unavailable', undefined, options);
    this.name = 'MfaUnavailableError';
  }
}

/** `TESSERA_EMAIL_VERIFICATION=required` and the account's address is not verified yet. */
export class EmailNotVerifiedError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('email_not_verified', undefined, options);
    this.name = 'EmailNotVerifiedError';
  }
}

/** The refresh token is unknown, malformed, expired or belongs to a revoked session. */
export class InvalidGrantError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('invalid_grant', message, options);
    this.name = 'InvalidGrantError';
  }
}

/** A consumed refresh token was replayed: the whole session has been revoked (RFC 9700 §4.14.2). */
export class RefreshTokenReusedError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('refresh_token_reused', message, options);
    this.name = 'RefreshTokenReusedError';
  }
}

/** The session passed its idle or absolute lifetime. */
export class SessionExpiredError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('session_expired', message, options);
    this.name = 'SessionExpiredError';
  }
}

/** The access token's `exp` (plus the clock-skew leeway) has passed. */
export class TokenExpiredError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('token_expired', undefined, options);
    this.name = 'TokenExpiredError';
  }
}

/** The access token is missing, malformed, forged, or fails a claim check. */
export class InvalidTokenError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('invalid_token', message, options);
    this.name = 'InvalidTokenError';
  }
}

/** The access token is genuine but its session has been revoked. */
export class TokenRevokedError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('token_revoked', undefined, options);
    this.name = 'TokenRevokedError';
  }
}

/** The access token is valid but does not grant the operation (403). */
export class InsufficientScopeError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('insufficient_scope', message, options);
    this.name = 'InsufficientScopeError';
  }
}

/**
 * Step-up (RFC 9470 §3): the token is valid, but the sign-in behind it was not strong enough
 * (`amr` lacks a required method) or is too old (`auth_time` before `maxAge` seconds ago). The
 * client signs in again, with the second factor; `maxAge` goes into the challenge as `max_age`.
 */
export class InsufficientUserAuthenticationError extends TesseraError {
  readonly maxAge: number | undefined;

  constructor(message?: string, options?: ErrorOptions & { maxAge?: number }) {
    super('insufficient_user_authentication', message, options);
    this.name = 'InsufficientUserAuthenticationError';
    this.maxAge = options?.maxAge;
  }
}

/** A cookie-authenticated state change without a valid CSRF token or allowed Origin (403). */
export class CsrfFailedError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('csrf_failed', message, options);
    this.name = 'CsrfFailedError';
  }
}

/** Too many attempts; `retryAfterSeconds` goes into the `Retry-After` header (RFC 6585 §4). */
export class RateLimitedError extends TesseraError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, options?: ErrorOptions) {
    super('rate_limited', undefined, options);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** The resource does not exist or is not the caller's. */
export class NotFoundError extends TesseraError {
  constructor(message?: string, options?: ErrorOptions) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

/** A backing store is unreachable; the client should retry after `retryAfterSeconds` (503). */
export class UnavailableError extends TesseraError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds = 5, options?: ErrorOptions) {
    super('unavailable', undefined, options);
    this.name = 'UnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
