import type { FastifyInstance } from 'fastify';
import { JWKS_MAX_AGE_SECONDS } from '../../keys/keyring.ts';
import type { Services } from '../context.ts';

/** JWKS, liveness and readiness. */
export function systemRoutes(app: FastifyInstance, services: Services): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Verifiers may cache for this long; rotation publishes a new key at least this early.
    void reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return services.keyring.jwks(services.now());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    await services.store.ping();
    return { status: 'ready' };
  });
}
