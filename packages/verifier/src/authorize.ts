import { InsufficientScopeError, InsufficientUserAuthenticationError } from '@tessera/protocol';
import type { AccessTokenClaims, Role } from './claims.ts';

/** What a route requires beyond a valid token. */
export interface Requirements {
  /** Every one of these scopes must be in the token's `scope` (RFC 9068 §2.2.3). */
  scopes?: readonly string[];
  /** The token's `role` must be one of these. */
  roles?: readonly Role[];
  /**
   * Step-up (RFC 9470): every one of these RFC 8176 methods must be in the token's `amr` — `mfa`
   * for a sign-in with a second factor.
   */
  amr?: readonly string[];
  /** Step-up: the sign-in (`auth_time`) must be at most this many seconds old. */
  maxAge?: number;
}

/** Whether the token's space-separated `scope` holds every scope in `required`. */
export function hasScopes(claims: AccessTokenClaims, required: readonly string[]): boolean {
  const granted = new Set(claims.scope.split(' '));
  return required.every((scope) => granted.has(scope));
}

/**
 * Throws `InsufficientScopeError` (403, RFC 6750 §3.1) unless the claims meet `requirements`.
 *
 * @example
 * const claims = await verifier.verify(token);
 * authorize(claims, { scopes: ['admin'] }); // 403 for an ordinary user
 */
export function authorize(claims: AccessTokenClaims, requirements: Requirements, nowMs = Date.now()): void {
  const { scopes = [], roles, amr = [], maxAge } = requirements;
  if (!hasScopes(claims, scopes)) {
    throw new InsufficientScopeError(`This operation requires the scope "${scopes.join(' ')}"`);
  }
  if (roles && !roles.includes(claims.role)) {
    throw new InsufficientScopeError(`This operation requires the role ${roles.join(' or ')}`);
  }
  // A token without `amr` or `auth_time` (an older server) meets no such requirement.
  const methods = new Set(claims.amr ?? []);
  const missing = amr.filter((method) => !methods.has(method));
  if (missing.length > 0) {
    throw new InsufficientUserAuthenticationError(
      `This operation requires a sign-in with ${missing.join(' and ')}`,
    );
  }
  if (maxAge !== undefined && (claims.auth_time === undefined || nowMs / 1000 - claims.auth_time > maxAge)) {
    throw new InsufficientUserAuthenticationError(
      `This operation requires a sign-in in the last ${maxAge} s`,
      {
        maxAge,
      },
    );
  }
}
