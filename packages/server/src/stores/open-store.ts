import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/load-config.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** Opens the store named by the configuration, creating and migrating it if needed. */
export function openStore(config: Pick<Config, 'databaseUrl' | 'redisUrl'>): Store {
  if (config.redisUrl !== undefined) {
    throw new ConfigError(
      'TESSERA_REDIS_URL',
      'the Redis store is not available in this version yet; unset it',
    );
  }
  if (config.databaseUrl.startsWith('sqlite:'))
    return SqliteStore.open(config.databaseUrl.slice('sqlite:'.length));
  throw new ConfigError(
    'TESSERA_DATABASE_URL',
    'the PostgreSQL store is not available in this version yet; use sqlite:<file>',
  );
}
