import assert from 'node:assert/strict';
import { tempDatabaseUrl, type ServerProcess } from '../../../server/test/helpers/server-process.ts';

/** The TESSERA_* settings of one deployment: a fresh SQLite file in a temporary directory. */
export function deployment(): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: tempDatabaseUrl('tessera-cli-'),
    TESSERA_ISSUER: 'http://tessera.test',
    TESSERA_HOST: '127.0.0.1',
    TESSERA_LOG_LEVEL: 'warn',
  };
}

/** The SQLite file of a deployment. */
export const databaseFile = (env: Record<string, string>): string =>
  String(env['TESSERA_DATABASE_URL']).slice('sqlite:'.length);

/** A graceful stop: SIGTERM closes the server and the database and exits 0. */
export async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  const { code, signal } = await server.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'SIGTERM exits 0');
}
