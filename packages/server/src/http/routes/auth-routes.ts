import type { FastifyInstance } from 'fastify';
import { MissingCredentialsError } from '../errors.ts';
import { readBearerToken } from '../bearer.ts';
import { authenticate, clientInfo, type Services } from '../context.ts';
import { presentGrant, presentUser } from '../present.ts';
import {
  emailSchema,
  passwordSchema,
  refreshTokenSchema,
  tokenResponseSchema,
  userSchema,
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
}
interface RefreshBody {
  refreshToken: string;
}
interface LogoutBody {
  refreshToken?: string;
}

/** Sign-up, login, refresh and logout (SPEC §4). */
export function authRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, sessions, rateLimits } = services;

  app.post<{ Body: SignupBody }>(
    '/auth/signup',
    {
      schema: {
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
        response: { 201: { type: 'object', properties: { user: userSchema }, required: ['user'] } },
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await accounts.signup(request.body, now);
      return reply.code(201).send({ user: presentUser(user) });
    },
  );

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    {
      schema: {
        body: {
          type: 'object',
          properties: { email: emailSchema, password: passwordSchema, remember: { type: 'boolean' } },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: { 200: tokenResponseSchema },
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const grant = await accounts.login(request.body, clientInfo(request), now);
      return reply.send(presentGrant(grant, now));
    },
  );

  app.post<{ Body: RefreshBody }>(
    '/auth/refresh',
    {
      schema: {
        body: {
          type: 'object',
          properties: { refreshToken: refreshTokenSchema },
          required: ['refreshToken'],
          additionalProperties: false,
        },
        response: { 200: tokenResponseSchema },
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const grant = await sessions.refresh(request.body.refreshToken, now);
      return reply.send(presentGrant(grant, now));
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
        body: {
          type: 'object',
          properties: { refreshToken: refreshTokenSchema },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const now = services.now();
      const refreshToken = request.body?.refreshToken;
      const bearer = readBearerToken(request);
      if (bearer === null && refreshToken === undefined) throw new MissingCredentialsError();
      // A refresh token alone is enough to end its session (RFC 7009); with an expired access
      // token beside it, the refresh token still logs out.
      let userId: string | null = null;
      if (bearer !== null) {
        try {
          const claims = await sessions.authenticate(bearer, now);
          userId = claims.sub;
          await sessions.revoke(claims.sid, 'logout', now);
        } catch (error) {
          if (refreshToken === undefined) throw error;
        }
      }
      if (refreshToken !== undefined) await sessions.revokeByRefreshToken(refreshToken, userId, now);
      return reply.code(204).send();
    },
  );

  app.post('/auth/logout-all', async (request, reply) => {
    const now = services.now();
    const claims = await authenticate(services, request);
    await sessions.revokeAll(claims.sub, 'logout_all', now);
    return reply.code(204).send();
  });
}
