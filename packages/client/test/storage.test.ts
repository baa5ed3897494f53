import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createClient,
  localStorageAdapter,
  memoryStorage,
  sessionStorageAdapter,
  type TokenSet,
  type TokenStorage,
} from '../src/index.ts';
import { loggedIn } from './helpers/setup.ts';
import { MemoryWebStorage } from './helpers/fakes.ts';

test('memory storage is the default: a second client sees nothing', async (t) => {
  const { client, newClient } = await loggedIn(t);
  assert.ok((await client.me()).id);
  const reloaded = newClient();
  assert.equal(await reloaded.resume(), false);
  await assert.rejects(reloaded.me(), { code: 'invalid_token' });
});

test('the localStorage adapter survives a reload and is cleared at logout', async (t) => {
  const storage = new MemoryWebStorage();
  const { client, newClient, email } = await loggedIn(t, {
    client: { storage: localStorageAdapter(storage) },
  });
  const stored = JSON.parse(storage.getItem('tessera.tokens') ?? 'null') as TokenSet;
  assert.equal(typeof stored.accessToken, 'string');
  assert.equal(typeof stored.refreshToken, 'string');
  client.close();

  const reloaded = newClient({ storage: localStorageAdapter(storage) });
  const started = new Promise((resolve) => reloaded.on('start', resolve));
  assert.equal(await reloaded.resume(), true);
  assert.deepEqual(await started, { user: null });
  assert.equal((await reloaded.me()).email, email);
  await reloaded.logout();
  assert.equal(storage.items.size, 0);
});

test('the sessionStorage adapter keeps tokens under its own key and is not shared across tabs', () => {
  const storage = new MemoryWebStorage();
  const adapter = sessionStorageAdapter(storage, 'app.tokens');
  assert.equal(adapter.shared, false);
  assert.equal(localStorageAdapter(storage).shared, true);
  void adapter.set({ accessToken: 'a', expiresAt: 1 });
  assert.deepEqual([...storage.items.keys()], ['app.tokens']);
});

test('a stored value that is not a token set reads as no session', () => {
  const storage = new MemoryWebStorage();
  const adapter = localStorageAdapter(storage);
  for (const junk of ['not json', 'null', '[]', '{"expiresAt":"soon"}', '{"expiresAt":1,"accessToken":5}']) {
    storage.setItem('tessera.tokens', junk);
    assert.equal(adapter.get(), null, junk);
  }
});

test('without a Storage object in this runtime, the web adapters say so', () => {
  assert.throws(() => localStorageAdapter(), /localStorage is not available/);
});

test('a custom asynchronous store (a mobile secure store) works end to end', async (t) => {
  const calls: string[] = [];
  let saved: string | null = null;
  const secureStore: TokenStorage = {
    get: async () => (calls.push('get'), saved === null ? null : (JSON.parse(saved) as TokenSet)),
    set: async (tokens) => {
      calls.push('set');
      saved = JSON.stringify(tokens);
    },
    clear: async () => {
      calls.push('clear');
      saved = null;
    },
  };
  const { client, server, clock, net } = await loggedIn(t, { client: { storage: secureStore } });
  assert.ok(saved);
  server.clock.advance(15 * 60 * 1000 + 60_000);
  clock.advance(15 * 60 * 1000);
  assert.ok((await client.me()).id);
  assert.equal(net.count('/auth/refresh'), 1);
  await client.logout();
  assert.equal(saved, null);
  assert.ok(calls.includes('set') && calls.at(-1) === 'clear');
});

test('cookie mode refuses a token storage: it keeps no tokens in script', () => {
  assert.throws(
    () => createClient({ baseUrl: 'http://127.0.0.1:1', mode: 'cookie', storage: memoryStorage() }),
    /Cookie mode keeps no tokens/,
  );
});
