import type { FastifyInstance } from 'fastify';
import { JWKS_MAX_AGE_SECONDS } from '../../keys/keyring.ts';
import type { Services } from '../context.ts';
import { withErrors } from '../schemas.ts';

const statusSchema = (status: string, description: string) =>
  ({
    description,
    type: 'object',
    properties: { status: { type: 'string', const: status } },
    required: ['status'],
    additionalProperties: false,
  }) as const;

/** JWKS, liveness, readiness and metrics. */
export function systemRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['system'],
        summary: 'The public signing keys (JWK Set, RFC 7517)',
        description: `Verifiers may cache it for ${JWKS_MAX_AGE_SECONDS} s; a new key is published at least that long before it signs.`,
        response: withErrors({
          200: {
            description: 'The published public keys; never a private or symmetric key',
            type: 'object',
            properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
            required: ['keys'],
          },
        }),
      },
    },
    async (_request, reply) => {
      // Verifiers may cache for this long; rotation publishes a new key at least this early.
      void reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      return services.keyring.jwks(services.now());
    },
  );

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness',
        response: withErrors({ 200: statusSchema('ok', 'The process is serving') }),
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['system'],
        summary: 'Readiness',
        description: 'Answers 503 `unavailable` while the store is out of reach.',
        response: withErrors({ 200: statusSchema('ready', 'The store answers') }),
      },
    },
    async () => {
      await services.store.ping();
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics',
        description:
          'Logins and refreshes by outcome, reuse detections, revocations by reason, rate-limit hits, ' +
          'request latency by route, store errors and the signing key age, in the text exposition format.',
        response: {
          200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    async (_request, reply) => reply.type(services.metrics.contentType).send(await services.metrics.render()),
  );
}
