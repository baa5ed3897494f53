import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenGrant } from '../sessions/sessions.ts';

/**
 * Cookie mode (SPEC §4): tokens in `HttpOnly; Secure; SameSite=Strict` cookies instead of the
 * body. The access cookie uses the `__Host-` prefix (Path=/, no Domain: no sibling subdomain can
 * set or shadow it); the refresh cookie is scoped to `/auth`, where refresh and logout live, with
 * the `__Secure-` prefix; the CSRF cookie is readable by the page so it can echo it in a header.
 * Browsers treat http://localhost as secure, so `Secure` works in local development too.
 */
export const ACCESS_COOKIE = '__Host-tessera_at';
export const REFRESH_COOKIE = '__Secure-tessera_rt';
export const CSRF_COOKIE = 'tessera_csrf';

const base = { secure: true, sameSite: 'strict' } as const;

export function setSessionCookies(
  reply: FastifyReply,
  grant: TokenGrant,
  csrfToken: string,
  now: number,
): void {
  const accessMaxAge = Math.max(0, Math.floor((grant.access.expiresAt - now) / 1000));
  void reply.setCookie(ACCESS_COOKIE, grant.access.token, {
    ...base,
    httpOnly: true,
    path: '/',
    maxAge: accessMaxAge,
  });
  if (grant.refreshToken !== null && grant.refreshExpiresAt !== null) {
    const refreshMaxAge = Math.max(0, Math.floor((grant.refreshExpiresAt - now) / 1000));
    void reply.setCookie(REFRESH_COOKIE, grant.refreshToken, {
      ...base,
      httpOnly: true,
      path: '/auth',
      maxAge: refreshMaxAge,
    });
  }
  // Lives as long as the session can: it is re-set on every refresh.
  const csrfMaxAge = Math.max(
    accessMaxAge,
    grant.refreshExpiresAt === null ? 0 : Math.floor((grant.refreshExpiresAt - now) / 1000),
  );
  void reply.setCookie(CSRF_COOKIE, csrfToken, { ...base, httpOnly: false, path: '/', maxAge: csrfMaxAge });
}

/** Logout: the same names, paths and attributes with `Max-Age=0` (ATTACKS WEB-06). */
export function clearSessionCookies(reply: FastifyReply): void {
  void reply.setCookie(ACCESS_COOKIE, '', { ...base, httpOnly: true, path: '/', maxAge: 0 });
  void reply.setCookie(REFRESH_COOKIE, '', { ...base, httpOnly: true, path: '/auth', maxAge: 0 });
  void reply.setCookie(CSRF_COOKIE, '', { ...base, httpOnly: false, path: '/', maxAge: 0 });
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies[name];
  return value === undefined || value === '' ? undefined : value;
}
