import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCrossTab, localStorageAdapter, type TesseraClient, type TokenSet } from '../src/index.ts';
import { ManualClock, MemoryWebStorage, nextEvent, settle, waitFor } from './helpers/fakes.ts';
import { PASSWORD, setup, type Setup } from './helpers/setup.ts';

const ACCESS_TTL_MS = 15 * 60 * 1000;

/** Two tabs of one browser: one origin's localStorage, one machine clock, one network. */
async function twoTabs(
  t: Parameters<typeof setup>[0],
  options: { locks?: null; gateFirstTab?: Promise<void> } = {},
): Promise<Setup & { a: TesseraClient; b: TesseraClient; storage: MemoryWebStorage }> {
  const context = await setup(t);
  const storage = new MemoryWebStorage();
  const tab = (random: number, gate?: Promise<void>): TesseraClient =>
    context.newClient({
      storage: localStorageAdapter(storage),
      random: () => random,
      crossTab: createCrossTab({
        name: context.server.url,
        clock: context.clock,
        ...(options.locks === null ? { locks: null } : {}),
      }),
      fetch: async (input, init) => {
        const request = new Request(input, init);
        const response = context.net.fetch(request);
        if (gate && new URL(request.url).pathname === '/auth/refresh') await gate;
        return response;
      },
    });
  // Tab a refreshes 3 s before tab b (more jitter), well within the 5 s lock timeout.
  const a = tab(0.3, options.gateFirstTab);
  const b = tab(0);
  const bStarted = nextEvent((listener) => b.on('start', listener));
  await a.login({ email: context.email, password: PASSWORD });
  await bStarted;
  context.net.requests.length = 0;
  return { ...context, a, b, storage };
}

function stored(storage: MemoryWebStorage): TokenSet {
  return JSON.parse(storage.getItem('tessera.tokens') ?? 'null') as TokenSet;
}

test('two tabs with Web Locks: one refresh request, the other tab picks up the result', async (t) => {
  const { a, b, clock, server, net, storage } = await twoTabs(t);
  const before = stored(storage);
  const aRefresh = nextEvent<{ byOtherTab: boolean }>((listener) => a.on('refresh', listener));
  const bRefresh = nextEvent<{ byOtherTab: boolean }>((listener) => b.on('refresh', listener));
  // Both tabs' timers come due in one step, and both tabs make requests at the same moment.
  server.clock.advance(ACCESS_TTL_MS - 1000);
  clock.advance(ACCESS_TTL_MS - 1000);
  const [fromA, fromB] = await Promise.all([a.fetch('/auth/me'), b.fetch('/auth/me')]);
  assert.equal(fromA.status, 200);
  assert.equal(fromB.status, 200);
  await fromA.body?.cancel();
  await fromB.body?.cancel();
  assert.equal(net.count('/auth/refresh'), 1);
  assert.deepEqual([(await aRefresh).byOtherTab, (await bRefresh).byOtherTab].sort(), [false, true]);
  const after = stored(storage);
  assert.notEqual(after.refreshToken, before.refreshToken);
  const [authA, authB] = net.requests.filter((request) => request.path === '/auth/me');
  assert.equal(authA?.headers.get('authorization'), `Bearer ${after.accessToken}`);
  assert.equal(authB?.headers.get('authorization'), `Bearer ${after.accessToken}`);
});

test('a logout in one tab ends the session in the other', async (t) => {
  const { a, b, clock } = await twoTabs(t);
  const ended = nextEvent((listener) => b.on('end', listener));
  await a.logout();
  assert.deepEqual(await ended, { reason: 'logout' });
  assert.deepEqual(clock.pending(), [], 'no tab keeps a refresh timer');
});

test('a lock held by a frozen tab delays a refresh by the lock timeout, no longer', async (t) => {
  const { a, b, clock, server, net } = await twoTabs(t);
  b.close();
  let thaw = (): void => {};
  const frozen = new Promise<void>((resolve) => (thaw = resolve));
  const held = new Promise<void>((resolve) => {
    void navigator.locks.request(`tessera:${server.url}`, async () => {
      resolve();
      await frozen;
    });
  });
  await held;
  t.after(thaw);
  const refreshed = nextEvent((listener) => a.on('refresh', listener));
  const [due] = clock.pending();
  assert.ok(due !== undefined);
  server.clock.advance(due - clock.now());
  clock.advanceTo(due);
  await waitFor(() => clock.pending().includes(due + 5000));
  assert.equal(net.count('/auth/refresh'), 0, 'waiting for the lock');
  clock.advance(4999);
  await settle();
  assert.equal(net.count('/auth/refresh'), 0, 'still waiting');
  clock.advance(1);
  await refreshed;
  assert.equal(net.count('/auth/refresh'), 1, 'gave up waiting and refreshed');
  assert.ok((await a.me()).id);
});

test('without Web Locks, a tab that saw another announce a refresh waits for its result', async (t) => {
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { b, clock, server, net } = await twoTabs(t, { locks: null, gateFirstTab: gate });
  const [dueA, dueB] = clock.pending();
  assert.ok(dueA !== undefined && dueB !== undefined && dueA < dueB);
  server.clock.advance(dueB - clock.now());
  const heard = new BroadcastChannel(`tessera:${server.url}`);
  t.after(() => heard.close());
  const announced = new Promise((resolve) => (heard.onmessage = resolve));
  clock.advanceTo(dueA);
  await announced;
  await waitFor(() => net.count('/auth/refresh') === 1);
  const picked = nextEvent<{ byOtherTab: boolean }>((listener) => b.on('refresh', listener));
  clock.advanceTo(dueB);
  await settle();
  release();
  assert.equal((await picked).byOtherTab, true);
  await settle();
  assert.equal(net.count('/auth/refresh'), 1, 'tab b waited instead of refreshing');
  assert.ok((await b.me()).id);
});

test('without Web Locks, simultaneous refreshes are absorbed by the grace window', async (t) => {
  const { a, b, server, net, storage, clock } = await twoTabs(t, { locks: null });
  server.clock.advance(ACCESS_TTL_MS + 60_000);
  clock.advance(ACCESS_TTL_MS);
  await Promise.all([a.refresh(), b.refresh()]);
  assert.ok(net.count('/auth/refresh') <= 2);
  const tokens = stored(storage);
  assert.ok(tokens.refreshToken);
  // The session survived: both tabs still work and can refresh again.
  assert.ok((await a.me()).id);
  assert.ok((await b.me()).id);
  assert.equal(await b.refresh(), true);
});

test('without Web Locks, another tab’s activity does not release a tab waiting for a refresh result', async () => {
  const clock = new ManualClock();
  const name = `activity-${process.pid}-${Date.now()}`;
  const waiting = createCrossTab({ name, clock, locks: null });
  const other = createCrossTab({ name, clock, locks: null });
  try {
    other.publish({ type: 'refreshing' });
    await settle();
    let ran = false;
    const task = waiting.exclusive(async () => (ran = true));
    other.publish({ type: 'activity' });
    await settle();
    assert.equal(ran, false, 'activity is not a refresh result');
    other.publish({ type: 'updated', expiresAt: clock.now() + ACCESS_TTL_MS });
    await task;
    assert.equal(ran, true);
  } finally {
    waiting.close();
    other.close();
  }
});
