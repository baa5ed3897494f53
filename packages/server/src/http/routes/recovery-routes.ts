import type { FastifyInstance } from 'fastify';
import { authenticate, clientInfo, type Services } from '../context.ts';
import { presentUser } from '../present.ts';
import { bearerAuth, emailSchema, noContent, passwordSchema, userResponse, withErrors } from '../schemas.ts';

interface ForgotBody {
  email: string;
}
interface ResetBody {
  token: string;
  newPassword: string;
}
interface EmailChangeBody {
  newEmail: string;
  password: string;
}

const tokenSchema = { type: 'string', minLength: 1, maxLength: 512 } as const;
const accepted = {
  description: 'Accepted: a link is mailed if the address has an account',
  type: 'null',
} as const;

/** Password reset and email verification by emailed link (issue 13). */
export function recoveryRoutes(app: FastifyInstance, services: Services): void {
  const { recovery, emailChange, rateLimits } = services;
  const tokenBody = {
    type: 'object',
    properties: { token: tokenSchema },
    required: ['token'],
    additionalProperties: false,
  } as const;

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

  app.post<{ Body: { token: string } }>(
    '/auth/email/verify',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Verify the email address with an emailed link',
        description:
          'Spends the token of the link mailed at sign-up (or by `/auth/email/verify/resend`), valid ' +
          'a day. Errors: `invalid_link` (unknown, used, expired, or for an address the account no ' +
          'longer has), `rate_limited`.',
        body: tokenBody,
        response: withErrors({ 200: userResponse('Verified') }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await recovery.verifyEmail(request.body.token, clientInfo(request), now);
      return reply.send({ user: presentUser(user) });
    },
  );

  app.post(
    '/auth/email/verify/resend',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Mail a new verification link',
        description:
          'For the signed-in user whose address is not verified yet; nothing is sent for a verified ' +
          'one. Errors: `invalid_token`, `rate_limited` (5 an hour per address).',
        security: bearerAuth,
        response: withErrors({ 202: { description: 'Accepted', type: 'null' } }),
      },
    },
    async (request, reply) => {
      const claims = await authenticate(services, request);
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      await recovery.resendVerification(claims.sub, clientInfo(request), now);
      return reply.code(202).send();
    },
  );

  app.post<{ Body: EmailChangeBody }>(
    '/auth/email/change',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Change the email address',
        description:
          'For the signed-in user, with the password. Mails a confirmation link (valid a day) to the ' +
          'new address and a notice to the current one; the address changes only when the link is ' +
          'confirmed. `202` whether or not the new address has an account (one that has gets no ' +
          'mail). Errors: `invalid_request` (not an email address, or the current one), ' +
          '`invalid_credentials` (wrong password), `invalid_token`, `rate_limited` (5 an hour per ' +
          'new address; password tries as for a password change).',
        security: bearerAuth,
        body: {
          type: 'object',
          properties: { newEmail: emailSchema, password: passwordSchema },
          required: ['newEmail', 'password'],
          additionalProperties: false,
        },
        response: withErrors({ 202: { description: 'Accepted', type: 'null' } }),
      },
    },
    async (request, reply) => {
      const claims = await authenticate(services, request);
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await services.accounts.profile(claims.sub);
      await emailChange.request(user, request.body, clientInfo(request), now);
      return reply.code(202).send();
    },
  );

  app.post<{ Body: { token: string } }>(
    '/auth/email/change/confirm',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Confirm a new email address with the emailed link',
        description:
          'Spends the token of the link mailed to the new address: the account takes that address ' +
          '(verified) and every other emailed link of the account dies. Sessions stay signed in. ' +
          'Errors: `invalid_link` (unknown, used, expired, or issued before a password change or a ' +
          'reset), `email_taken` (another account took the address meanwhile), `rate_limited`.',
        body: tokenBody,
        response: withErrors({ 200: userResponse('Changed') }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await emailChange.confirm(request.body.token, clientInfo(request), now);
      return reply.send({ user: presentUser(user) });
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
            token: tokenSchema,
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
