import type { FastifyInstance } from 'fastify';
import { authorize } from '@tessera/verifier';
import { authenticate, clientInfo, type Services } from '../context.ts';
import { bearerAuth, grantResponseSchema, noContent, passwordSchema, withErrors } from '../schemas.ts';
import { sendGrant } from '../send-grant.ts';

/** A TOTP code (six digits) or a recovery code (`XXXX-XXXX-XXXX-XXXX`, dashes and case free). */
const codeSchema = { type: 'string', minLength: 6, maxLength: 32 } as const;
const recoveryCodesResponse = {
  type: 'object',
  properties: {
    recoveryCodes: {
      type: 'array',
      items: { type: 'string' },
      description: 'Shown this once: each works one time, in place of a code from the app',
    },
  },
  required: ['recoveryCodes'],
  additionalProperties: false,
} as const;

/** How recent a sign-in removing the factor with the password alone must be. */
const PASSWORD_REMOVAL_MAX_AGE_SECONDS = 300;

/** A body of one field, `code`. */
function codeBody(code: object): object {
  return { type: 'object', properties: { code }, required: ['code'], additionalProperties: false };
}

/** Second factors (issue 14): TOTP enrolment and removal, recovery codes, the second step. */
export function mfaRoutes(app: FastifyInstance, services: Services): void {
  const { mfa, secondStep, rateLimits } = services;

  app.get(
    '/auth/mfa',
    {
      schema: {
        tags: ['mfa'],
        summary: "The signed-in user's second factors",
        security: bearerAuth,
        response: withErrors({
          200: {
            type: 'object',
            properties: {
              totp: { type: 'string', enum: ['active', 'pending', 'none'] },
              recoveryCodesLeft: { type: 'integer' },
            },
            required: ['totp', 'recoveryCodesLeft'],
            additionalProperties: false,
          },
        }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      return mfa.status(claims.sub);
    },
  );

  app.post<{ Body: { password: string } }>(
    '/auth/mfa/totp',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Start enrolling a TOTP app',
        description:
          'A new secret for an authenticator app, as text, as an `otpauth://` URI and as a QR code. ' +
          'Not active until `POST /auth/mfa/totp/confirm` with a code from the app; asking again ' +
          'replaces a pending secret. Needs the password: an access token alone must not enrol. ' +
          'Errors: `invalid_credentials`, `invalid_request` (a factor is already active), ' +
          '`mfa_unavailable` (no `TESSERA_SECRET_KEY`), `rate_limited`, `invalid_token`.',
        security: bearerAuth,
        body: {
          type: 'object',
          properties: { password: passwordSchema },
          required: ['password'],
          additionalProperties: false,
        },
        response: withErrors({
          200: {
            type: 'object',
            properties: {
              secret: { type: 'string', description: 'Base32, for typing in by hand' },
              otpauthUri: { type: 'string' },
              qrCode: { type: 'string', description: 'The URI as an SVG QR code, a `data:` URL' },
            },
            required: ['secret', 'otpauthUri', 'qrCode'],
            additionalProperties: false,
          },
        }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const user = await services.accounts.profile(claims.sub);
      return mfa.startTotp(user, request.body.password, clientInfo(request), now);
    },
  );

  app.post<{ Body: { code: string } }>(
    '/auth/mfa/totp/confirm',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Activate the TOTP app with its first code',
        description:
          'From now on every sign-in of the account needs a second step, and every other session ' +
          'of the account ends. Returns ten recovery codes, shown this once. Errors: `invalid_code`, `invalid_request` (nothing pending), ' +
          '`rate_limited`, `invalid_token`.',
        security: bearerAuth,
        body: codeBody({ type: 'string', pattern: '^[0-9]{6}$' }),
        response: withErrors({ 200: recoveryCodesResponse }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      const user = await services.accounts.profile(claims.sub);
      const recoveryCodes = await mfa.confirmTotp(
        user,
        claims.sid,
        request.body.code,
        clientInfo(request),
        services.now(),
      );
      return { recoveryCodes };
    },
  );

  app.delete<{ Body: { code: string } | { password: string } }>(
    '/auth/mfa/totp',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Remove the TOTP app and the recovery codes',
        description:
          'With a current code (or a recovery code), or the password from a session signed in in the ' +
          'last 5 minutes (sign in with a recovery code first). Errors: `invalid_code`, ' +
          '`insufficient_user_authentication` (the password, from an older sign-in), ' +
          '`invalid_credentials`, `invalid_request` (no factor), `rate_limited`, `invalid_token`.',
        security: bearerAuth,
        body: {
          oneOf: [
            {
              type: 'object',
              properties: { code: codeSchema },
              required: ['code'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: { password: passwordSchema },
              required: ['password'],
              additionalProperties: false,
            },
          ],
        },
        response: withErrors({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const claims = await authenticate(services, request);
      const now = services.now();
      // The password alone (the app is lost) needs a fresh sign-in, made with a recovery code:
      // a stolen session and a phished password must not be enough (RFC 9470 step-up).
      if ('password' in request.body) authorize(claims, { maxAge: PASSWORD_REMOVAL_MAX_AGE_SECONDS }, now);
      const user = await services.accounts.profile(claims.sub);
      await mfa.removeTotp(user, request.body, clientInfo(request), now);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { code: string } }>(
    '/auth/mfa/recovery-codes',
    {
      schema: {
        tags: ['mfa'],
        summary: 'A new set of recovery codes',
        description:
          'For a current code (or a recovery code); the old set stops working. Errors: `invalid_code`, ' +
          '`rate_limited`, `invalid_token`.',
        security: bearerAuth,
        body: codeBody(codeSchema),
        response: withErrors({ 200: recoveryCodesResponse }),
      },
    },
    async (request) => {
      const claims = await authenticate(services, request);
      const user = await services.accounts.profile(claims.sub);
      const recoveryCodes = await mfa.newRecoveryCodes(
        user,
        request.body.code,
        clientInfo(request),
        services.now(),
      );
      return { recoveryCodes };
    },
  );

  app.post<{ Body: { mfaToken: string; code: string } }>(
    '/auth/mfa/verify',
    {
      schema: {
        tags: ['mfa'],
        summary: 'The second step of a sign-in',
        description:
          'The `mfaToken` of a `403 mfa_required` answer and a code from the app (or a recovery ' +
          'code): the login response the first step asked for (tokens, or cookies in cookie mode). ' +
          'A code works once. Errors: `invalid_code`, `invalid_grant` (the mfaToken is unknown, ' +
          'expired, used, or dead after five wrong codes: sign in again), `rate_limited`, ' +
          '`csrf_failed`.',
        body: {
          type: 'object',
          properties: { mfaToken: { type: 'string', minLength: 1, maxLength: 512 }, code: codeSchema },
          required: ['mfaToken', 'code'],
          additionalProperties: false,
        },
        response: withErrors({ 200: grantResponseSchema }),
      },
    },
    async (request, reply) => {
      const now = services.now();
      await rateLimits.hitAddress(request.ip, now);
      const { grant, cookie } = await secondStep.verify(request.body, clientInfo(request), now, {
        beforeCookieSession: () => services.csrf.checkOrigin(request),
      });
      return sendGrant(services, reply, grant, cookie, now);
    },
  );
}
