import { UnavailableError } from '@tessera/protocol';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { buildApp } from './app.ts';
import { logDestination, loggerOptions } from './http/logging.ts';
import { closeGracefully, SHUTDOWN_GRACE_MS } from './shutdown.ts';
import { openStore } from './stores/open-store.ts';

/**
 * Starts the server from the environment and stops it cleanly on SIGTERM/SIGINT. A bad setting
 * exits with status 2 and a message naming the variable, before anything listens; a database that
 * does not answer at start exits with status 1 and says so.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  let store;
  try {
    config = loadConfig(env);
    store = await openStore(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: invalid configuration: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof UnavailableError) {
      const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
      process.stderr.write(`tessera: cannot reach the database (TESSERA_DATABASE_URL): ${cause}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  const app = await buildApp({
    config,
    store,
    logger: loggerOptions(config.logLevel, logDestination(config.logFormat)),
    processMetrics: true,
  });
  const shutdown = (signal: string): void => {
    app.log.info({ signal }, 'shutting down');
    // Should closing itself hang, the process still ends (an orchestrator would SIGKILL it).
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 5000).unref();
    closeGracefully(app, store, SHUTDOWN_GRACE_MS)
      .then((drained) => {
        if (!drained) app.log.warn('requests still running at the shutdown deadline were cut off');
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ port: config.port, host: config.host });
}
