import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '@tessera/protocol';
import { decodeUserCursor, encodeUserCursor } from '../../admin/user-cursor.ts';
import { MAX_PAGE_SIZE, type Role, type UserCursor } from '../../stores/store.ts';
import { actorOf, authenticateAdmin, type Services } from '../context.ts';
import { presentAdminUser, presentAuditEntry } from '../present.ts';
import { adminUserSchema, auditEntrySchema, bearerAuth, withErrors } from '../schemas.ts';

interface PageQuery {
  limit?: string;
  cursor?: string;
}

const DEFAULT_PAGE_SIZE = 50;

// Query strings arrive as strings (types are never coerced): numbers are checked by pattern.
const pageQuery = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: `1 to ${MAX_PAGE_SIZE} (default 50)` },
  cursor: { type: 'string', maxLength: 200, description: '`next` of the previous page' },
} as const;

const pageOf = (items: object) =>
  ({
    description: 'A page, newest first; `next` is the cursor of the following page, or null',
    type: 'object',
    properties: { items: { type: 'array', items }, next: { type: ['string', 'null'] } },
    required: ['items', 'next'],
    additionalProperties: false,
  }) as const;

const userParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['id'],
} as const;

/**
 * The admin API (SPEC §4): users, their role, status and sessions, and the audit log. Every route
 * requires an admin's access token (`authenticateAdmin`); anyone else gets 403 `insufficient_scope`.
 */
export function adminRoutes(app: FastifyInstance, services: Services): void {
  const { administration } = services;
  const admin = {
    tags: ['admin'],
    security: bearerAuth,
  };
  const errors =
    'Errors: `invalid_token`, `token_expired`, `token_revoked`, `insufficient_scope` (not an admin)';

  app.get<{ Querystring: PageQuery & { q?: string } }>(
    '/admin/users',
    {
      schema: {
        ...admin,
        summary: 'List users',
        description: `Newest first; \`q\` keeps emails that start with it. ${errors}.`,
        querystring: {
          type: 'object',
          properties: { ...pageQuery, q: { type: 'string', maxLength: 320 } },
          additionalProperties: false,
        },
        response: withErrors({ 200: pageOf(adminUserSchema) }),
      },
    },
    async (request) => {
      await authenticateAdmin(services, request);
      const { q, limit, cursor } = request.query;
      const page = await administration.listUsers({
        emailPrefix: q?.trim().normalize('NFKC').toLowerCase(),
        limit: pageSize(limit),
        after: cursor === undefined ? null : userCursor(cursor),
      });
      return { items: page.items.map(presentAdminUser), next: page.next && encodeUserCursor(page.next) };
    },
  );

  app.patch<{ Params: { id: string }; Body: { role?: Role; disabled?: boolean } }>(
    '/admin/users/:id',
    {
      schema: {
        ...admin,
        summary: "Change a user's role or status",
        description:
          'Disabling revokes every session of the user at once. A change that would leave no enabled ' +
          `admin is refused with \`invalid_request\`. ${errors}, \`not_found\`.`,
        params: userParams,
        body: {
          type: 'object',
          properties: { role: { type: 'string', enum: ['user', 'admin'] }, disabled: { type: 'boolean' } },
          minProperties: 1,
          additionalProperties: false,
        },
        response: withErrors({ 200: adminUserSchema }),
      },
    },
    async (request) => {
      const now = services.now();
      const claims = await authenticateAdmin(services, request);
      const { role, disabled } = request.body;
      const user = await administration.updateUser(
        request.params.id,
        { role, disabled },
        actorOf(request, claims.sub),
        now,
      );
      return presentAdminUser(user);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/mfa/reset',
    {
      schema: {
        ...admin,
        summary: "Remove a user's second factors",
        description: `For a user who lost the authenticator app and the recovery codes: the password alone signs in again, until a factor is enrolled anew. Audited (\`mfa_reset\`). ${errors}, \`not_found\`.`,
        params: userParams,
        response: withErrors({
          200: {
            description: 'Whether the user had a factor to remove',
            type: 'object',
            properties: { removed: { type: 'boolean' } },
            required: ['removed'],
            additionalProperties: false,
          },
        }),
      },
    },
    async (request) => {
      const claims = await authenticateAdmin(services, request);
      const removed = await administration.resetMfa(
        request.params.id,
        actorOf(request, claims.sub),
        services.now(),
      );
      return { removed };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/revoke-sessions',
    {
      schema: {
        ...admin,
        summary: "Revoke all of a user's sessions",
        description: `Their tokens are refused at once here, and by verifiers through the revocation feed. ${errors}, \`not_found\`.`,
        params: userParams,
        response: withErrors({
          200: {
            description: 'How many live sessions were revoked',
            type: 'object',
            properties: { revoked: { type: 'integer' } },
            required: ['revoked'],
            additionalProperties: false,
          },
        }),
      },
    },
    async (request) => {
      const now = services.now();
      const claims = await authenticateAdmin(services, request);
      const revoked = await administration.revokeSessions(
        request.params.id,
        actorOf(request, claims.sub),
        now,
      );
      return { revoked: revoked.length };
    },
  );

  app.get<{ Querystring: PageQuery & { subject?: string } }>(
    '/admin/audit',
    {
      schema: {
        ...admin,
        summary: 'Read the audit log',
        description: `Security events, newest first; \`subject\` keeps those about one user id. ${errors}.`,
        querystring: {
          type: 'object',
          properties: { ...pageQuery, subject: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
        response: withErrors({ 200: pageOf(auditEntrySchema) }),
      },
    },
    async (request) => {
      await authenticateAdmin(services, request);
      const { subject, limit, cursor } = request.query;
      const page = await administration.listAudit({
        subject,
        limit: pageSize(limit),
        after: cursor === undefined ? null : decodeAuditCursor(cursor),
      });
      return { items: page.items.map(presentAuditEntry), next: page.next && String(page.next) };
    },
  );
}

function pageSize(limit: string | undefined): number {
  const size = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  if (size < 1 || size > MAX_PAGE_SIZE) {
    throw new InvalidRequestError(`limit must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
}

function userCursor(text: string): UserCursor {
  const cursor = decodeUserCursor(text);
  if (cursor === null) throw new InvalidRequestError('cursor is not one this server gave');
  return cursor;
}

function decodeAuditCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new InvalidRequestError('cursor is not one this server gave');
  return Number(cursor);
}
