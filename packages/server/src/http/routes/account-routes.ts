import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@tessera/protocol';
import { readAccessToken } from '../bearer.ts';
import { actorOf, authenticate, clientInfo, type Services } from '../context.ts';
import { presentSession, presentUser } from '../present.ts';
import { bearerAuth, noContent, passwordSchema, sessionSchema, userSchema, withErrors } from '../schemas.ts';

interface PasswordBody {
  currentPassword: string;
  newPassword: string;
}

/** The signed-in user's own profile, sessions and password (SPEC §4). */
export function accountRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, sessions } = services;

  const bearer = { tags: ['account'], security: bearerAuth };

  app.get(
    '/auth/me',
    {
      schema: {
        ...bearer,
        summary: 'The signed-in user',
        description: 'Errors: `invalid_token`, `token_expired`, `token_revoked`.',
        response: withErrors({ 200: userSchema }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      return presentUser(await accounts.profile(claims.sub));
    },
  );

  // The decoded header and claims of the token that authenticated this request — never the token.
  // Cookie-mode pages cannot read their HttpOnly token, yet may want its `exp` or `sid`.
  app.get(
    '/auth/token',
    {
      schema: {
        ...bearer,
        summary: 'The verified access token, decoded',
        description:
          'Its header and claims (never the token itself): for cookie-mode pages, which cannot read it.',
        response: withErrors({
          200: {
            description: 'The JOSE header and the claims',
            type: 'object',
            properties: {
              header: { type: 'object', additionalProperties: true },
              claims: { type: 'object', additionalProperties: true },
            },
            required: ['header', 'claims'],
          },
        }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      const presented = readAccessToken(request);
      const header = presented ? decodeSegment(presented.token, 0) : {};
      return { header, claims };
    },
  );

  app.get(
    '/auth/sessions',
    {
      schema: {
        ...bearer,
        summary: "The user's active sessions",
        response: withErrors({
          200: { description: 'Active sessions', type: 'array', items: sessionSchema },
        }),
      },
    },
    async (request) => {
      const now = services.now();
      const claims = await authenticate(services, request);
      await accounts.profile(claims.sub);
      const list = await sessions.list(claims.sub, now);
      return list.map((session) => presentSession(session, claims.sid));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/auth/sessions/:id',
    {
      schema: {
        ...bearer,
        summary: 'Revoke one of your sessions',
        description: "Someone else's session answers `not_found`, like one that does not exist.",
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: withErrors({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      const claims = await authenticate(services, request);
      // Someone else's session answers exactly like one that does not exist.
      const session = await sessions.findOwn(claims.sub, request.params.id);
      if (!session || session.revokedAt !== null) throw new NotFoundError('No such session');
      await sessions.revoke(session.id, 'session_deleted', now, actorOf(request, claims.sub));
      return reply.code(204).send();
    },
  );

  app.post<{ Body: PasswordBody }>(
    '/auth/password',
    {
      schema: {
        ...bearer,
        summary: 'Change the password',
        description:
          'Requires the current password; revokes every other session. Errors: `invalid_credentials`, ' +
          '`invalid_request` (a weak new password), `rate_limited`.',
        response: withErrors({ 204: noContent }),
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
      await accounts.changePassword(claims.sub, claims.sid, request.body, now, clientInfo(request));
      return reply.code(204).send();
    },
  );
}

/** A verified token's segment as JSON (the token was checked by `authenticate` first). */
function decodeSegment(token: string, index: number): unknown {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));
}
