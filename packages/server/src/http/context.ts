import type { FastifyRequest } from 'fastify';
import { InsufficientScopeError, InvalidTokenError } from '@tessera/protocol';
import type { Actor } from '../audit/audit.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { EmailChange } from '../accounts/email-change.ts';
import type { Mfa } from '../mfa/mfa.ts';
import type { SecondStep } from '../mfa/second-step.ts';
import type { EmailSignIn } from '../accounts/email-sign-in.ts';
import type { Recovery } from '../accounts/recovery.ts';
import type { MailSender } from '../mail/mail-sender.ts';
import type { Administration } from '../admin/administration.ts';
import type { Config } from '../config/config.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Cleanup } from '../maintenance/cleanup.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import type { Store } from '../stores/store.ts';
import type { AccessTokenClaims, AccessTokens } from '../tokens/access-token.ts';
import type { Csrf } from '../security/csrf.ts';
import { requireAccessToken } from './bearer.ts';
import { CSRF_COOKIE, readCookie } from './cookies.ts';

/** What the routes work with; built once by `buildApp`. */
export interface Services {
  config: Config;
  store: Store;
  keyring: Keyring;
  accessTokens: AccessTokens;
  sessions: Sessions;
  accounts: Accounts;
  recovery: Recovery;
  emailChange: EmailChange;
  emailSignIn: EmailSignIn;
  mfa: Mfa;
  secondStep: SecondStep;
  mail: MailSender;
  administration: Administration;
  rateLimits: RateLimits;
  csrf: Csrf;
  metrics: Metrics;
  cleanup: Cleanup;
  /** Milliseconds since the epoch; injectable so tests freeze time instead of sleeping. */
  now(): number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Verifies the request's access token (header or cookie) and its session; throws the matching
 * 401. A state-changing request authenticated by cookie must also pass the CSRF checks (403
 * `csrf_failed`); a Bearer header needs none, since a browser never adds it by itself.
 */
export async function authenticate(services: Services, request: FastifyRequest): Promise<AccessTokenClaims> {
  const presented = requireAccessToken(request);
  const claims = await services.sessions.authenticate(presented.token, services.now());
  if (presented.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
    services.csrf.check(request, claims.sid, readCookie(request, CSRF_COOKIE));
  }
  return claims;
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : null };
}

/** The user acting through this request, and where from (for the audit log). */
export function actorOf(request: FastifyRequest, userId: string | null): Actor {
  return { id: userId, ...clientInfo(request) };
}

/**
 * `authenticate`, then the admin check: the token must carry role `admin` and scope `admin`, and
 * the account must still be an enabled admin now (a demoted admin's unexpired token loses its
 * power at once). Anyone else gets 403 `insufficient_scope`.
 */
export async function authenticateAdmin(
  services: Services,
  request: FastifyRequest,
): Promise<AccessTokenClaims> {
  const claims = await authenticate(services, request);
  if (claims.role !== 'admin' || !claims.scope.split(' ').includes('admin')) {
    throw new InsufficientScopeError('This operation requires the admin role');
  }
  const user = await services.store.getUserById(claims.sub);
  if (!user || user.disabledAt !== null) throw new InvalidTokenError('The account is not active');
  if (user.role !== 'admin') throw new InsufficientScopeError('This operation requires the admin role');
  return claims;
}
