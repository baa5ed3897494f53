import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildApp,
  loadConfig,
  openStore,
  type Config,
  type Store,
  type TesseraApp,
} from '../../src/index.ts';
import type { FakeClock } from './clock.ts';
import type { Reply } from './test-server.ts';

export interface Instance {
  url: string;
  app: TesseraApp;
  store: Store;
  close(): Promise<void>;
}

/**
 * A real server on loopback, opened from TESSERA_* settings as `tessera serve` opens it (any store:
 * SQLite, PostgreSQL, PostgreSQL + Redis), on a fake clock. `open` replaces `openStore` when a test
 * needs store options no variable sets (a short connect timeout, say).
 */
export async function startInstance(
  env: Record<string, string>,
  clock: FakeClock,
  options: { revocationSyncIntervalMs?: number; open?: (config: Config) => Promise<Store> } = {},
): Promise<Instance> {
  const config = loadConfig({ TESSERA_ISSUER: 'http://tessera.test', TESSERA_PORT: '0', ...env });
  const store = await (options.open ?? openStore)(config);
  const app = await buildApp({
    config,
    store,
    now: clock.now,
    revocationSyncIntervalMs: options.revocationSyncIntervalMs,
  });
  return {
    url: await listenOnLoopback(app),
    app,
    store,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** Listens on a free loopback port; the server's base URL. */
export async function listenOnLoopback(app: TesseraApp): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

/** Polls until `probe` answers `status`, for at most `ms`; returns the last reply. */
export async function eventually(probe: () => Promise<Reply>, status: number, ms: number): Promise<Reply> {
  const deadline = Date.now() + ms;
  let reply = await probe();
  while (reply.status !== status && Date.now() < deadline) {
    await sleep(20);
    reply = await probe();
  }
  return reply;
}
