import type { FastifyRequest } from 'fastify';
import type { Accounts } from '../accounts/accounts.ts';
import type { Config } from '../config/config.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import type { Store } from '../stores/store.ts';
import type { AccessTokenClaims, AccessTokens } from '../tokens/access-token.ts';
import { requireBearerToken } from './bearer.ts';

/** What the routes work with; built once by `buildApp`. */
export interface Services {
  config: Config;
  store: Store;
  keyring: Keyring;
  accessTokens: AccessTokens;
  sessions: Sessions;
  accounts: Accounts;
  rateLimits: RateLimits;
  /** Milliseconds since the epoch; injectable so tests freeze time instead of sleeping. */
  now(): number;
}

/** Verifies the request's bearer token and its session; throws the matching 401. */
export async function authenticate(services: Services, request: FastifyRequest): Promise<AccessTokenClaims> {
  return services.sessions.authenticate(requireBearerToken(request), services.now());
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : null };
}
