import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequestError, TesseraError } from '@tessera/protocol';
import type { TokenGrant } from '../../sessions/sessions.ts';
import { clearSessionCookies, CSRF_COOKIE, readCookie, REFRESH_COOKIE } from '../cookies.ts';
import { MissingCredentialsError } from '../errors.ts';
import { readAccessToken } from '../bearer.ts';
import { actorOf, authenticate, clientInfo, type Services } from '../context.ts';
import { presentUser } from '../present.ts';
import { sendGrant as sendGrantReply } from '../send-grant.ts';
import {
  bearerAuth,
  emailSchema,
  passwordSchema,
  grantResponseSchema,
  noContent,
  refreshTokenSchema,
  userResponse,
  mfaRequiredSchema,
  withErrors,
} from '../schemas.ts';

interface SignupBody {
  email: string;
  password: string;
  name?: string;
}
interface LoginBody {
  email: string;
  password: string;
  remember?: boolean;
  cookie?: boolean;
}
interface RefreshBody {
  refreshToken?: string;
}
interface LogoutBody {
  refreshToken?: string;
}

/** Sign-up, login, refresh and logout (SPEC §4). */
export function authRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, sessions, rateLimits } = services;

  const sendGrant = (reply: FastifyReply, grant: TokenGrant, cookie: boolean, now: number): FastifyReply =>
    sendGrantReply(services, reply, grant, cookie, now);

  /** A refresh or logout by the refresh cookie is a state change by cookie: CSRF applies. */
  const checkRefreshCookieCsrf = async (request: FastifyRequest, refreshToken: string): Promise<void> => {
    const session = await sessions.sessionOfRefreshToken(refreshToken);
    if (session === null) {
      services.csrf.checkOrigin(request);
      return;
    }
    services.csrf.check(request, session.id, readCookie(request, CSRF_COOKIE));
  };

  app.post<{ Body: SignupBody }>(
    '/auth/signup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        description:
          'Errors: `invalid_request` (a weak or oversized password), `email_taken`, `rate_limited`.',
        body: {
          type: 'object',
          properties: {
            email: emailSchema,
            password: passwordSchema,
            name: { type: 'string', maxLength: 200 },
          },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: withErrors({
          201: userResponse('Created'),
        }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await accounts.signup(request.body, now, clientInfo(request));
      services.recovery.afterSignup(user, now);
      return reply.code(201).send({ user: presentUser(user) });
    },
  );

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in',
        description:
          'Starts a session. `remember: false` issues no refresh token; `cookie: true` sets the tokens ' +
          'as HttpOnly cookies instead of returning them. Errors: `invalid_credentials` (never says ' +
          'whether the email exists), `mfa_required` (the account has a second factor: the body carries ' +
          'an `mfaToken` for `POST /auth/mfa/verify`), `rate_limited`, `csrf_failed` (cookie mode from ' +
          'another origin).',
        body: {
          type: 'object',
          properties: {
            email: emailSchema,
            password: passwordSchema,
            remember: { type: 'boolean' },
            cookie: { type: 'boolean' },
          },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: withErrors({ 200: grantResponseSchema, 403: mfaRequiredSchema }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      // Login CSRF: a cross-site page must not log the browser into an account (ATTACKS WEB-05).
      if (request.body.cookie === true) services.csrf.checkOrigin(request);
      const grant = await accounts.login(request.body, clientInfo(request), now);
      return sendGrant(reply, grant, request.body.cookie === true, now);
    },
  );

  app.post<{ Body: RefreshBody }>(
    '/auth/refresh',
    {
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['auth'],
        summary: 'Rotate a refresh token',
        description:
          'Consumes the refresh token (from the body, or the refresh cookie in cookie mode) and ' +
          'returns a new access token and its successor. Errors: `invalid_grant`, ' +
          '`refresh_token_reused` (the session is revoked), `session_expired`, `rate_limited`.',
        body: {
          type: 'object',
          properties: { refreshToken: refreshTokenSchema },
          additionalProperties: false,
        },
        response: withErrors({ 200: grantResponseSchema }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const fromBody = request.body.refreshToken;
      if (fromBody !== undefined)
        return sendGrant(reply, await sessions.refresh(fromBody, now, clientInfo(request)), false, now);
      // Cookie mode: the refresh token is the /auth-scoped cookie, and the request must pass CSRF.
      const fromCookie = readCookie(request, REFRESH_COOKIE);
      if (fromCookie === undefined) {
        throw new InvalidRequestError(
          'body must have refreshToken (or send the refresh cookie in cookie mode)',
        );
      }
      await checkRefreshCookieCsrf(request, fromCookie);
      try {
        return sendGrant(reply, await sessions.refresh(fromCookie, now, clientInfo(request)), true, now);
      } catch (error) {
        // The session is over: clear the cookies so the browser stops presenting them.
        if (error instanceof TesseraError && error.status === 401) clearSessionCookies(reply);
        throw error;
      }
    },
  );

  app.post<{ Body: LogoutBody | undefined }>(
    '/auth/logout',
    {
      // A Bearer logout has no body at all; validate it as an empty object.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['auth'],
        summary: 'Log out',
        description:
          "Revokes the access token's session, or the refresh token's (an unknown refresh token " +
          'still answers 204, RFC 7009). Either credential is enough.',
        security: [...bearerAuth, {}],
        body: {
          type: 'object',
          properties: { refreshToken: refreshTokenSchema },
          additionalProperties: false,
        },
        response: withErrors({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      const bodyToken = request.body?.refreshToken;
      const cookieToken = readCookie(request, REFRESH_COOKIE);
      const presented = readAccessToken(request);
      if (presented === null && bodyToken === undefined && cookieToken === undefined) {
        throw new MissingCredentialsError();
      }
      // A refresh token alone is enough to end its session (RFC 7009); with an expired access
      // token beside it, the refresh token still logs out.
      let userId: string | null = null;
      if (presented !== null) {
        try {
          const claims = await authenticate(services, request);
          userId = claims.sub;
          await sessions.revoke(claims.sid, 'logout', now, actorOf(request, claims.sub));
        } catch (error) {
          if (bodyToken === undefined && cookieToken === undefined) throw error;
        }
      }
      const client = clientInfo(request);
      if (bodyToken !== undefined) await sessions.revokeByRefreshToken(bodyToken, userId, now, client);
      if (cookieToken !== undefined && userId === null) {
        await checkRefreshCookieCsrf(request, cookieToken);
        await sessions.revokeByRefreshToken(cookieToken, null, now, client);
      }
      if (presented?.via === 'cookie' || cookieToken !== undefined) clearSessionCookies(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/logout-all',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log out everywhere',
        description: "Revokes every session of the token's user.",
        security: bearerAuth,
        response: withErrors({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      const claims = await authenticate(services, request);
      await sessions.revokeAll(claims.sub, 'logout_all', now, actorOf(request, claims.sub));
      return reply.code(204).send();
    },
  );
}
