import { ConfigError, loadConfig } from './config/load-config.ts';
import { buildApp } from './app.ts';
import { openStore } from './stores/open-store.ts';

/**
 * Starts the server from the environment and stops it cleanly on SIGTERM/SIGINT. A bad setting
 * exits with status 2 and a message naming the variable, before anything listens.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  let store;
  try {
    config = loadConfig(env);
    store = openStore(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: invalid configuration: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const app = await buildApp({
    config,
    store,
    logger: {
      level: config.logLevel,
      // Never log credentials (ATTACKS OPS-03): no headers, no bodies, and no query strings.
      serializers: {
        req: (request: { method: string; url: string; id: string }) => ({
          id: request.id,
          method: request.method,
          path: request.url.split('?', 1)[0],
        }),
      },
    },
  });
  const shutdown = (signal: string): void => {
    app.log.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => store.close())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ port: config.port, host: config.host });
}
