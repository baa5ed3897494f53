import type { FastifyInstance } from 'fastify';
import type { Store } from './stores/store.ts';

/** How long requests in flight get to finish after SIGTERM before their connections are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Stops the server as an orchestrator expects on SIGTERM: stop accepting connections, close idle
 * keep-alive connections and end the revocation streams, let the requests in flight finish, then
 * close the store (which they may still need). A request still running after `graceMs` — a client
 * that stopped sending half-way — has its connection cut, so shutdown is bounded whatever clients
 * do. Resolves `true` when everything drained in time, `false` when connections had to be cut.
 */
export async function closeGracefully(app: FastifyInstance, store: Store, graceMs: number): Promise<boolean> {
  let drained = true;
  const deadline = setTimeout(() => {
    drained = false;
    app.server.closeAllConnections();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
  }
  await store.close();
  return drained;
}

/**
 * Once closing has begun, every response ends its connection (`Connection: close`) instead of
 * keeping it alive: a request in flight when SIGTERM came must not leave an idle connection
 * holding the shutdown up until the deadline.
 */
export function endConnectionsWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
}
