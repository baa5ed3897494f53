import { RedisSessionStore } from '../../src/stores/redis/redis-session-store.ts';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';
import { createTestSchema, testPostgresUrl } from '../helpers/postgres.ts';
import { deleteKeys, testPrefix, testRedisUrl } from '../helpers/redis.ts';
import { storeContract } from './store-contract.ts';

// The same contract, unchanged, with sessions, tokens, revocations and counters in Redis: in front
// of PostgreSQL (the scale-out deployment) and of SQLite. Each test gets its own key prefix and
// deletes its keys afterwards (the machine's Redis is shared: never flushed).
const redisUrl = testRedisUrl({ announceSkip: true });
if (redisUrl !== undefined) {
  storeContract('SQLite + Redis', async () => {
    const prefix = testPrefix();
    const store = await RedisSessionStore.open(SqliteStore.open(':memory:'), redisUrl, { prefix });
    return {
      store,
      sessionsExpireByTtl: true,
      async close() {
        await store.close();
        await deleteKeys(redisUrl, prefix);
      },
    };
  });

  const postgresUrl = testPostgresUrl();
  if (postgresUrl !== undefined) {
    storeContract('PostgreSQL + Redis', async () => {
      const schema = await createTestSchema(postgresUrl);
      const prefix = testPrefix();
      try {
        const store = await RedisSessionStore.open(await PostgresStore.open(schema.url), redisUrl, {
          prefix,
        });
        return {
          store,
          sessionsExpireByTtl: true,
          async close() {
            await store.close();
            await deleteKeys(redisUrl, prefix);
            await schema.drop();
          },
        };
      } catch (error) {
        await schema.drop();
        throw error;
      }
    });
  }
}
