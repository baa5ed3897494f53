import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The docs page runs Swagger UI's own scripts and styles, from this server only; its "try it out"
 * calls this origin. Nothing from elsewhere, no page may frame it, and nothing inline but the one
 * `<style>` element Swagger UI adds, allowed by its hash (an upgrade that changes it fails the
 * Chromium test in api-docs.test.ts).
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The tags that group operations on the docs page, in the order shown. */
const TAGS = [
  { name: 'auth', description: 'Sign-up, login, refresh and logout' },
  { name: 'account', description: "The signed-in user's profile, sessions and password" },
  { name: 'recovery', description: 'Password reset, email verification and change, sign-in by code' },
  { name: 'mfa', description: 'Second factors: a TOTP app, recovery codes, the second step' },
  { name: 'admin', description: 'Users, roles, sessions and the audit log, for admins' },
  { name: 'revocations', description: 'The revocation feed for resource servers' },
  { name: 'system', description: 'Keys, health and metrics' },
];

/**
 * The API documentation (SPEC §4): an OpenAPI 3.1 document built by `@fastify/swagger` from the
 * very route schemas that validate requests, at `/docs/json` (and `/docs/yaml`), and Swagger UI
 * to read and try it at `/docs`. Registered before the routes, so it sees every one of them; a
 * route that is not part of the API (the demo page's files) says `hide: true`.
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version,
        description:
          'Self-hostable JWT authentication. Every error body is `{"error": "<code>", "message": "…"}` ' +
          'with a stable code (docs/errors.md); 401 and 403 carry `WWW-Authenticate`, 429 and 503 `Retry-After`.',
      },
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token' },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
}
