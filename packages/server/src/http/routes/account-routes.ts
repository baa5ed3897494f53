import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@tessera/protocol';
import { authenticate, type Services } from '../context.ts';
import { presentSession, presentUser } from '../present.ts';
import { passwordSchema, userSchema } from '../schemas.ts';

interface PasswordBody {
  currentPassword: string;
  newPassword: string;
}

/** The signed-in user's own profile, sessions and password (SPEC §4). */
export function accountRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, sessions } = services;

  app.get('/auth/me', { schema: { response: { 200: userSchema } } }, async (request) => {
    const claims = await authenticate(services, request);
    return presentUser(await accounts.profile(claims.sub));
  });

  app.get('/auth/sessions', async (request) => {
    const now = services.now();
    const claims = await authenticate(services, request);
    await accounts.profile(claims.sub);
    const list = await sessions.list(claims.sub, now);
    return list.map((session) => presentSession(session, claims.sid));
  });

  app.delete<{ Params: { id: string } }>(
    '/auth/sessions/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      },
    },
    async (request, reply) => {
      const now = services.now();
      const claims = await authenticate(services, request);
      // Someone else's session answers exactly like one that does not exist.
      const session = await sessions.findOwn(claims.sub, request.params.id);
      if (!session || session.revokedAt !== null) throw new NotFoundError('No such session');
      await sessions.revoke(session.id, 'session_deleted', now);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: PasswordBody }>(
    '/auth/password',
    {
      schema: {
        body: {
          type: 'object',
          properties: { currentPassword: passwordSchema, newPassword: passwordSchema },
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const now = services.now();
      const claims = await authenticate(services, request);
      await accounts.changePassword(claims.sub, claims.sid, request.body, now);
      return reply.code(204).send();
    },
  );
}
