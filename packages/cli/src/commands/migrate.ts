import { openConfiguredStore } from '../open.ts';

/** `tessera migrate`: opening the store applies pending migrations. */
export async function migrateCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write('tessera migrate takes no arguments\n');
    return 2;
  }
  const { store } = await openConfiguredStore();
  await store.close();
  process.stdout.write('database schema is up to date\n');
  return 0;
}
