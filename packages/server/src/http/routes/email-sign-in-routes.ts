import type { FastifyInstance } from 'fastify';
import type { SignInProof } from '../../accounts/email-sign-in.ts';
import { clientInfo, type Services } from '../context.ts';
import { emailSchema, grantResponseSchema, mfaRequiredSchema, withErrors } from '../schemas.ts';
import { sendGrant } from '../send-grant.ts';

interface RequestBody {
  email: string;
  remember?: boolean;
  cookie?: boolean;
}

/** Sign-in by emailed code, or by the link in the same mail (issue 13). */
export function emailSignInRoutes(app: FastifyInstance, services: Services): void {
  const { emailSignIn, rateLimits } = services;

  app.post<{ Body: RequestBody }>(
    '/auth/login/email',
    {
      schema: {
        tags: ['auth'],
        summary: 'Mail a sign-in code',
        description:
          '`202` for every well-formed address, with an account or not, at once; an enabled account ' +
          'is mailed a 6-digit code, valid 10 minutes, and a link carrying the same grant. A new ' +
          'code replaces the previous one. `remember` and `cookie` apply to the session that the ' +
          'code starts, as for `/auth/login`. Errors: `invalid_request`, `rate_limited` (per client ' +
          'address, and 5 an hour per target address whether or not it has an account).',
        body: {
          type: 'object',
          properties: {
            email: emailSchema,
            remember: { type: 'boolean' },
            cookie: { type: 'boolean' },
          },
          required: ['email'],
          additionalProperties: false,
        },
        response: withErrors({
          202: { description: 'Accepted: a code is mailed if the address has an account', type: 'null' },
        }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      // Login CSRF: a cross-site page must not start a cookie session (ATTACKS WEB-05).
      if (request.body.cookie === true) services.csrf.checkOrigin(request);
      await emailSignIn.request(request.body, clientInfo(request), now);
      return reply.code(202).send();
    },
  );

  app.post<{ Body: SignInProof }>(
    '/auth/login/email/verify',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with an emailed code or link',
        description:
          '`{email, code}` (the code from the mail) or `{token}` (from the link in the same mail, ' +
          'spent by the page it opens). Answers as `/auth/login` does: tokens, or the session cookies ' +
          'if the code was asked for with `cookie: true`. A code works once; five wrong tries kill ' +
          'it. Errors: `invalid_code` (wrong, expired, used, dead, or no code for the address), ' +
          '`invalid_link` (the link form), `rate_limited`, `csrf_failed` (cookie mode from another ' +
          'origin).',
        body: {
          oneOf: [
            {
              type: 'object',
              properties: { email: emailSchema, code: { type: 'string', pattern: '^[0-9]{6}$' } },
              required: ['email', 'code'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
              required: ['token'],
              additionalProperties: false,
            },
          ],
        },
        response: withErrors({ 200: grantResponseSchema, 403: mfaRequiredSchema }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      // Login CSRF as above, checked before any session exists: the mode is the stored request's.
      const { grant, cookie } = await emailSignIn.verify(request.body, clientInfo(request), now, {
        beforeCookieSession: () => services.csrf.checkOrigin(request),
      });
      return sendGrant(services, reply, grant, cookie, now);
    },
  );
}
