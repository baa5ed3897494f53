import { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { createTestSchema, testPostgresUrl } from '../helpers/postgres.ts';
import { storeContract } from './store-contract.ts';

const baseUrl = testPostgresUrl({ announceSkip: true });
if (baseUrl !== undefined) {
  storeContract('PostgreSQL', async () => {
    // A fresh schema per test: migrations included, nothing shared, dropped afterwards.
    const schema = await createTestSchema(baseUrl);
    try {
      const store = await PostgresStore.open(schema.url);
      return {
        store,
        async close() {
          await store.close();
          await schema.drop();
        },
      };
    } catch (error) {
      await schema.drop();
      throw error;
    }
  });
}
