import { InsufficientScopeError } from '@tessera/protocol';
import type { AccessTokenClaims, Role } from './claims.ts';

/** What a route requires beyond a valid token. */
export interface Requirements {
  /** Every one of these scopes must be in the token's `scope` (RFC 9068 §2.2.3). */
  scopes?: readonly string[];
  /** The token's `role` must be one of these. */
  roles?: readonly Role[];
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
export function authorize(claims: AccessTokenClaims, requirements: Requirements): void {
  const { scopes = [], roles } = requirements;
  if (!hasScopes(claims, scopes)) {
    throw new InsufficientScopeError(`This operation requires the scope "${scopes.join(' ')}"`);
  }
  if (roles && !roles.includes(claims.role)) {
    throw new InsufficientScopeError(`This operation requires the role ${roles.join(' or ')}`);
  }
}
