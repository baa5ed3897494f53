import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/load-config.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { RedisSessionStore, type SqlStore } from './redis/redis-session-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * Opens the store named by the configuration, creating and migrating it if needed: the SQL store
 * alone, or with Redis in front of it for sessions, revocations and counters when
 * `TESSERA_REDIS_URL` is set. Rejects with `UnavailableError` when PostgreSQL or Redis does not
 * answer.
 */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'redisPrefix'>,
): Promise<Store> {
  const sql = await openSqlStore(config.databaseUrl);
  if (config.redisUrl === undefined) return sql;
  try {
    return await RedisSessionStore.open(sql, config.redisUrl, { prefix: config.redisPrefix });
  } catch (error) {
    await sql.close();
    throw error;
  }
}

async function openSqlStore(databaseUrl: string): Promise<SqlStore> {
  if (databaseUrl.startsWith('sqlite:')) return SqliteStore.open(databaseUrl.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return PostgresStore.open(databaseUrl);
  throw new ConfigError('TESSERA_DATABASE_URL', 'must be sqlite:<file> or postgres://…');
}
