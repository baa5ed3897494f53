import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('SQLite', async () => {
  const store = SqliteStore.open(':memory:');
  return { store, close: () => store.close() };
});
