import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

/** The route label of requests no route matched (404, 405): one series, whatever the path. */
const UNMATCHED = 'unmatched';

/**
 * Times every answered request by route pattern and counts 503s as store errors. Added before the
 * routes and plugins, so every one of them inherits it.
 */
export function measureRequests(app: FastifyInstance, metrics: Metrics): void {
  // A callback hook: it runs on every response and has nothing to wait for.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
