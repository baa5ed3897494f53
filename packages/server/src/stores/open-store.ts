import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/load-config.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * Opens the store named by the configuration, creating and migrating it if needed. Rejects with
 * `UnavailableError` when PostgreSQL does not answer.
 */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'redisUrl'>): Promise<Store> {
  if (config.redisUrl !== undefined) {
    throw new ConfigError(
      'TESSERA_REDIS_URL',
      'the Redis store is not available in this version yet; unset it',
    );
  }
  if (config.databaseUrl.startsWith('sqlite:'))
    return SqliteStore.open(config.databaseUrl.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) return PostgresStore.open(config.databaseUrl);
  throw new ConfigError('TESSERA_DATABASE_URL', 'must be sqlite:<file> or postgres://…');
}
