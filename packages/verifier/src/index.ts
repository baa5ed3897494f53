/**
 * `@tessera/verifier`: verify Tessera access tokens in your own services. Middleware lives on
 * subpaths: `@tessera/verifier/fastify`, `/express`, `/hono`, `/node`.
 */
export { createVerifier, type Duration, type Verifier, type VerifierOptions } from './verifier.ts';
export type { AccessTokenClaims, ClaimPolicy, Role } from './claims.ts';
export { authorize, hasScopes, type Requirements } from './authorize.ts';
export type { AlgorithmName } from './algorithms.ts';
export type { UnreachablePolicy } from './revocations/revocation-feed.ts';
export { authenticate, type AuthOptions, type AuthOutcome } from './http/authenticate.ts';
export { MissingCredentialsError, readBearerToken, type BearerSource } from './http/bearer.ts';
export { bearerChallenge, errorResponse, type ErrorResponse } from './http/challenge.ts';
export {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  TesseraError,
  TokenExpiredError,
  TokenRevokedError,
  UnavailableError,
} from '@tessera/protocol';
