import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../../server/test/helpers/test-server.ts';
import {
  createCrossTab,
  localStorageAdapter,
  type ClientEvents,
  type TesseraClient,
  type TokenSet,
} from '../src/index.ts';
import { MemoryWebStorage, nextEvent, settle, waitFor } from './helpers/fakes.ts';
import { loggedIn, PASSWORD, setup, type Setup } from './helpers/setup.ts';

const MINUTE = 60_000;
const ACCESS_TTL_MS = 15 * MINUTE;
const OUTCOMES = ['refresh', 'idle', 'end'] as const;

/** The names of a client's events, in order. */
function record(client: TesseraClient): Array<keyof ClientEvents> {
  const seen: Array<keyof ClientEvents> = [];
  for (const name of ['start', ...OUTCOMES] as const) client.on(name, () => seen.push(name));
  return seen;
}

function count(events: string[], name: string): number {
  return events.filter((event) => event === name).length;
}

function stored(storage: MemoryWebStorage): TokenSet {
  return JSON.parse(storage.getItem('tessera.tokens') ?? 'null') as TokenSet;
}

/**
 * Moves the server's and the clients' clocks forward together by `ms`, stopping at every timer that
 * comes due until some client has acted on it (refreshed, gone idle or ended) and the other tabs
 * have heard.
 */
async function pass(context: Setup, clients: TesseraClient[], ms: number): Promise<void> {
  const { clock, server } = context;
  const end = clock.now() + ms;
  let acted = 0;
  const offs = clients.flatMap((client) => OUTCOMES.map((name) => client.on(name, () => (acted += 1))));
  try {
    for (let due = clock.pending()[0]; due !== undefined && due <= end; due = clock.pending()[0]) {
      const before = acted;
      server.clock.advance(due - clock.now());
      clock.advanceTo(due);
      await waitFor(() => acted > before);
      if (clients.length > 1) await settle();
    }
  } finally {
    for (const off of offs) off();
  }
  server.clock.advance(end - clock.now());
  clock.advanceTo(end);
}

test('an idle client stops refreshing: the login counts once, then the access token expires quietly', async (t) => {
  const storage = new MemoryWebStorage();
  const context = await loggedIn(t, { client: { storage: localStorageAdapter(storage) } });
  const { client, clock, server, net } = context;
  const events = record(client);
  await pass(context, [client], ACCESS_TTL_MS);
  assert.deepEqual(events, ['refresh'], 'the login was activity since the last refresh');
  const tokens = stored(storage);

  const idle = nextEvent<{ expiresAt: number }>((listener) => client.on('idle', listener));
  // Past the next due time, the access token's expiry and the server's leeway.
  await pass(context, [client], ACCESS_TTL_MS + MINUTE);
  assert.deepEqual(events, ['refresh', 'idle']);
  assert.equal((await idle).expiresAt, tokens.expiresAt);
  assert.equal(net.count('/auth/refresh'), 1, 'no refresh while idle');
  assert.deepEqual(clock.pending(), [tokens.refreshExpiresAt], 'only the refresh token’s end is scheduled');
  const refused = await call(server, 'GET', '/auth/me', { token: tokens.accessToken ?? '' });
  assert.equal(refused.status, 401);
  assert.equal(refused.body['error'], 'token_expired');
  assert.deepEqual(stored(storage), tokens, 'the session is not over: its tokens stay');
});

test('after idling, a request refreshes first and succeeds, and counts as activity', async (t) => {
  const context = await loggedIn(t);
  const { client, net, clock } = context;
  const events = record(client);
  await pass(context, [client], 2 * ACCESS_TTL_MS + MINUTE);
  assert.deepEqual(events, ['refresh', 'idle']);
  net.requests.length = 0;
  assert.ok((await client.me()).id);
  assert.deepEqual(
    net.requests.map((request) => request.path),
    ['/auth/refresh', '/auth/me'],
    'refreshed before sending: no 401 and replay',
  );
  assert.deepEqual(events, ['refresh', 'idle', 'refresh']);
  assert.equal(clock.pending().length, 1, 'the background refresh is scheduled again');
  await pass(context, [client], ACCESS_TTL_MS);
  assert.deepEqual(events, ['refresh', 'idle', 'refresh', 'refresh'], 'the request kept it fresh');
});

test('a request just after the idle decision waits for the refresh instead of using the old token', async (t) => {
  const storage = new MemoryWebStorage();
  const context = await loggedIn(t, { client: { storage: localStorageAdapter(storage) } });
  const { client, clock, net } = context;
  const events = record(client);
  await pass(context, [client], ACCESS_TTL_MS);
  const [due] = clock.pending();
  assert.ok(due !== undefined);
  await pass(context, [client], due - clock.now());
  assert.deepEqual(events, ['refresh', 'idle']);
  const old = stored(storage);
  assert.ok(clock.now() < old.expiresAt - 5000, 'the old token is still valid for a while');
  assert.ok((await client.me()).id);
  assert.equal(net.requests.at(-1)?.headers.get('authorization'), `Bearer ${stored(storage).accessToken}`);
  assert.notEqual(stored(storage).accessToken, old.accessToken);
});

test('a tab whose timer never fired (a suspended laptop) refreshes an expired token before a request', async (t) => {
  const context = await loggedIn(t);
  const { client, clock, server, net } = context;
  clock.jump(ACCESS_TTL_MS + MINUTE);
  server.clock.advance(ACCESS_TTL_MS + MINUTE);
  const response = await client.fetch('/auth/me');
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.deepEqual(
    net.requests.map((request) => request.path),
    ['/auth/refresh', '/auth/me'],
  );
});

test('requests through the client keep the session refreshing; when they stop, it goes idle', async (t) => {
  const context = await loggedIn(t);
  const { client, net } = context;
  const events = record(client);
  for (let minute = 0; minute < 60; minute += 5) {
    const response = await client.fetch('/auth/me');
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await pass(context, [client], 5 * MINUTE);
  }
  // Due at about 14:45, 29:30, 44:15 and 59:00.
  assert.equal(count(events, 'refresh'), 4);
  assert.equal(count(events, 'idle'), 0);
  // A last request at 60:00, after the refresh at about 59:00: one more refresh, then idle.
  assert.ok((await client.me()).id);
  await pass(context, [client], 30 * MINUTE);
  assert.deepEqual(events.slice(-3), ['refresh', 'refresh', 'idle']);
  assert.equal(net.count('/auth/refresh'), 5);
});

test('touch() counts as activity, and after idling it refreshes right away', async (t) => {
  const context = await loggedIn(t);
  const { client, net, clock } = context;
  const events = record(client);
  for (let minute = 0; minute < 60; minute += 5) {
    client.touch();
    await pass(context, [client], 5 * MINUTE);
  }
  assert.equal(count(events, 'refresh'), 4);
  assert.equal(count(events, 'idle'), 0);
  assert.deepEqual(new Set(net.requests.map((request) => request.path)), new Set(['/auth/refresh']));
  await pass(context, [client], 30 * MINUTE);
  assert.equal(events.at(-1), 'idle');
  const refreshes = net.count('/auth/refresh');

  const refreshed = nextEvent((listener) => client.on('refresh', listener));
  client.touch();
  client.touch(); // input events come in bursts: still one refresh
  await refreshed;
  assert.equal(net.count('/auth/refresh'), refreshes + 1);
  const [due] = clock.pending();
  assert.ok(due !== undefined && due > clock.now() + ACCESS_TTL_MS - 20_000, 'scheduled a lifetime ahead');
});

test('activityEvents: the input events on the target count as touch(), until close()', async (t) => {
  const listening = new Set<string>();
  class Page extends EventTarget {
    override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
      listening.add(args[0]);
      super.addEventListener(...args);
    }
    override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
      listening.delete(args[0]);
      super.removeEventListener(...args);
    }
  }
  const page = new Page();
  const context = await loggedIn(t, { client: { activityEvents: page } });
  const { client } = context;
  assert.ok(listening.has('keydown') && listening.has('pointerdown'));
  const events = record(client);
  await pass(context, [client], 2 * ACCESS_TTL_MS);
  assert.deepEqual(events, ['refresh', 'idle']);
  const refreshed = nextEvent((listener) => client.on('refresh', listener));
  page.dispatchEvent(new Event('keydown'));
  await refreshed;
  client.close();
  assert.equal(listening.size, 0);
});

test('with activityFromRequests: false, requests refresh when needed but do not keep the session fresh', async (t) => {
  const context = await loggedIn(t, { client: { activityFromRequests: false } });
  const { client } = context;
  const events = record(client);
  for (let minute = 0; minute < 45; minute += 5) {
    assert.ok((await client.me()).id);
    await pass(context, [client], 5 * MINUTE);
  }
  // The login's refresh, idle at the next due time despite the requests, then the next request's
  // refresh-first, and idle again.
  assert.deepEqual(events, ['refresh', 'idle', 'refresh', 'idle']);
});

test('one active tab keeps the session refreshing for the idle tab too', async (t) => {
  const context = await setup(t);
  const { server, clock, net, email } = context;
  const storage = new MemoryWebStorage();
  const tab = (random: number): TesseraClient =>
    context.newClient({
      storage: localStorageAdapter(storage),
      random: () => random,
      crossTab: createCrossTab({ name: server.url, clock }),
    });
  // The idle tab's refreshes come due 3 s before the active tab's: it decides first.
  const idleTab = tab(0.3);
  const activeTab = tab(0);
  const started = nextEvent((listener) => activeTab.on('start', listener));
  await idleTab.login({ email, password: PASSWORD, remember: true });
  await started;
  net.requests.length = 0;
  const idleEvents = record(idleTab);
  const activeEvents = record(activeTab);
  const probe = new BroadcastChannel(`tessera:${server.url}`);
  t.after(() => probe.close());
  let announced = 0;
  probe.onmessage = (event: MessageEvent) => {
    const data: unknown = event.data;
    if ((data as { type?: unknown }).type === 'activity') announced += 1;
  };

  for (let minute = 0; minute < 60; minute += 5) {
    const before = announced;
    activeTab.touch();
    await waitFor(() => announced > before);
    await settle();
    await pass(context, [idleTab, activeTab], 5 * MINUTE);
  }
  assert.equal(net.count('/auth/refresh'), 4);
  assert.equal(count(idleEvents, 'idle'), 0, 'the other tab’s activity counted here');
  assert.equal(count(idleEvents, 'refresh'), 4);
  assert.equal(count(activeEvents, 'refresh'), 4);

  // Nobody active: both tabs let the token expire.
  await pass(context, [idleTab, activeTab], 30 * MINUTE);
  assert.equal(idleEvents.at(-1), 'idle');
  assert.equal(activeEvents.at(-1), 'idle');
  const refreshes = net.count('/auth/refresh');

  // Activity in one tab refreshes once, for both.
  const picked = nextEvent<{ byOtherTab: boolean }>((listener) => idleTab.on('refresh', listener));
  activeTab.touch();
  assert.equal((await picked).byOtherTab, true);
  assert.equal(net.count('/auth/refresh'), refreshes + 1);
  assert.ok((await idleTab.me()).id);
  assert.equal(net.count('/auth/refresh'), refreshes + 1);
});

test('an idle session ends as expired when its refresh token does, without a refresh request', async (t) => {
  const storage = new MemoryWebStorage();
  const context = await loggedIn(t, {
    env: { TESSERA_REFRESH_TTL: '1h', TESSERA_SESSION_MAX_AGE: '1d' },
    client: { storage: localStorageAdapter(storage) },
  });
  const { client, clock, server, net } = context;
  const events = record(client);
  await pass(context, [client], 2 * ACCESS_TTL_MS);
  assert.deepEqual(events, ['refresh', 'idle']);
  const tokens = stored(storage);
  assert.deepEqual(clock.pending(), [tokens.refreshExpiresAt]);

  const ended = nextEvent((listener) => client.on('end', listener));
  await pass(context, [client], 60 * MINUTE);
  assert.deepEqual(await ended, { reason: 'expired' });
  assert.equal(net.count('/auth/refresh'), 1, 'the dead refresh token was not sent');
  assert.equal(storage.getItem('tessera.tokens'), null);
  assert.deepEqual(clock.pending(), []);
  // The server agrees: the refresh token is past its idle lifetime.
  const refused = await call(server, 'POST', '/auth/refresh', {
    body: { refreshToken: tokens.refreshToken },
  });
  assert.equal(refused.body['error'], 'session_expired');
});

test('past the refresh token’s expiry, the next request ends the session instead of refreshing', async (t) => {
  const context = await loggedIn(t, { env: { TESSERA_REFRESH_TTL: '1h', TESSERA_SESSION_MAX_AGE: '1d' } });
  const { client, clock, server, net } = context;
  const events = record(client);
  await pass(context, [client], 2 * ACCESS_TTL_MS);
  assert.deepEqual(events, ['refresh', 'idle']);
  // A suspended laptop: the end-of-session timer has not fired yet.
  clock.jump(60 * MINUTE);
  server.clock.advance(60 * MINUTE);
  const ended = nextEvent((listener) => client.on('end', listener));
  const response = await client.fetch('/auth/me');
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.deepEqual(await ended, { reason: 'expired' });
  assert.equal(net.count('/auth/refresh'), 1, 'the dead refresh token was not sent');
  assert.equal(net.requests.at(-1)?.headers.get('authorization'), null, 'the request went out bare');
  assert.deepEqual(clock.pending(), []);
});

test('an active session is never refreshed past its refresh token: it ends when the access token does', async (t) => {
  // The absolute lifetime (20 min) caps the refresh token; the access token outlives it.
  const context = await loggedIn(t, {
    env: { TESSERA_SESSION_MAX_AGE: '20m', TESSERA_REFRESH_TTL: '20m' },
  });
  const { client, net } = context;
  const events = record(client);
  const ended = nextEvent((listener) => client.on('end', listener));
  for (let minute = 0; minute < 35; minute += 5) {
    client.touch();
    await pass(context, [client], 5 * MINUTE);
  }
  assert.deepEqual(await ended, { reason: 'expired' });
  assert.deepEqual(events, ['refresh', 'end']);
  assert.equal(net.count('/auth/refresh'), 1);
});
