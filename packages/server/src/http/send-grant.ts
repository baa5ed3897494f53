import type { FastifyReply } from 'fastify';
import type { TokenGrant } from '../sessions/sessions.ts';
import type { Services } from './context.ts';
import { setSessionCookies } from './cookies.ts';
import { presentCookieGrant, presentGrant } from './present.ts';

/** The login response: the tokens in the body, or (cookie mode) as the three session cookies. */
export function sendGrant(
  services: Services,
  reply: FastifyReply,
  grant: TokenGrant,
  cookie: boolean,
  now: number,
): FastifyReply {
  if (!cookie) return reply.send(presentGrant(grant, now));
  setSessionCookies(reply, grant, services.csrf.tokenFor(grant.access.claims.sid), now);
  return reply.send(presentCookieGrant(grant, now));
}
