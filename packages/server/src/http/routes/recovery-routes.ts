import type { FastifyInstance } from 'fastify';
import { clientInfo, type Services } from '../context.ts';
import { emailSchema, noContent, passwordSchema, withErrors } from '../schemas.ts';

interface ForgotBody {
  email: string;
}
interface ResetBody {
  token: string;
  newPassword: string;
}

const accepted = {
  description: 'Accepted: a link is mailed if the address has an account',
  type: 'null',
} as const;

/** Password reset by emailed link (issue 13). */
export function recoveryRoutes(app: FastifyInstance, services: Services): void {
  const { recovery, rateLimits } = services;

  app.post<{ Body: ForgotBody }>(
    '/auth/password/forgot',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Mail a password-reset link',
        description:
          '`202` for every well-formed address, with an account or not, at once; the link (valid ' +
          '`TESSERA_RESET_TTL`) is mailed to an enabled account only. Errors: `invalid_request` (not ' +
          'an email address), `rate_limited` (per client address, and per target address whether or ' +
          'not it has an account).',
        body: {
          type: 'object',
          properties: { email: emailSchema },
          required: ['email'],
          additionalProperties: false,
        },
        response: withErrors({ 202: accepted }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      await recovery.forgotPassword(request.body.email, clientInfo(request), now);
      return reply.code(202).send();
    },
  );

  app.post<{ Body: ResetBody }>(
    '/auth/password/reset',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Choose a new password with an emailed link',
        description:
          "Spends the link's token: the password changes, every session of the account is revoked " +
          '(refresh refused; access tokens refused here and at subscribed verifiers) and every other ' +
          'link dies. Errors: `invalid_request` (a weak password: the link is not spent), ' +
          '`invalid_link` (unknown, used, expired, or issued before a password or email change), ' +
          '`rate_limited`.',
        body: {
          type: 'object',
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 512 },
            newPassword: passwordSchema,
          },
          required: ['token', 'newPassword'],
          additionalProperties: false,
        },
        response: withErrors({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      await recovery.resetPassword(request.body, clientInfo(request), now);
      return reply.code(204).send();
    },
  );
}
