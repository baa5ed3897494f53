import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload } from '../../server/test/helpers/test-server.ts';
import { loggedIn, PASSWORD, setup } from './helpers/setup.ts';
import { nextEvent, settle } from './helpers/fakes.ts';

const ACCESS_TTL_MS = 15 * 60 * 1000;
const SKEW_MS = 10_000;

test('the background refresh is due between one and two leads before expiry', async (t) => {
  for (const [random, lead] of [
    [0, SKEW_MS],
    [0.999, Math.ceil(SKEW_MS + 0.999 * SKEW_MS)],
  ] as const) {
    const { client, clock } = await loggedIn(t, { client: { random: () => random } });
    const loggedInAt = clock.now();
    assert.deepEqual(clock.pending(), [loggedInAt + ACCESS_TTL_MS - lead]);
    client.close();
  }
});

test('with real randomness every due time stays within the jitter bounds', async (t) => {
  const { newClient, clock, email } = await setup(t);
  const dues = new Set<number>();
  for (let i = 0; i < 20; i += 1) {
    const client = newClient();
    await client.login({ email, password: PASSWORD });
    const [due] = clock.pending();
    assert.ok(due !== undefined);
    const expiry = clock.now() + ACCESS_TTL_MS;
    assert.ok(due <= expiry - SKEW_MS && due > expiry - 2 * SKEW_MS, `due ${expiry - due} ms before expiry`);
    dues.add(due);
    client.close();
  }
  assert.ok(dues.size > 1, 'jitter spreads the refreshes');
});

test('the refresh fires ahead of expiry and the session carries on', async (t) => {
  const { client, clock, server, net } = await loggedIn(t);
  const oldExpiryAtServer = server.clock.now() + ACCESS_TTL_MS;
  const refreshed = nextEvent<{ expiresAt: number; byOtherTab: boolean }>((listener) =>
    client.on('refresh', listener),
  );
  // Both clocks move to just before the due time: nothing yet.
  const [due] = clock.pending();
  assert.ok(due !== undefined);
  server.clock.advance(due - clock.now() - 1);
  clock.advance(due - clock.now() - 1);
  assert.equal(net.count('/auth/refresh'), 0);
  server.clock.advance(1);
  clock.advance(1);
  const event = await refreshed;
  assert.equal(net.count('/auth/refresh'), 1);
  assert.equal(event.byOtherTab, false);
  // expiresIn is whole seconds, rounded down by the server: the local estimate errs early.
  const shortfall = clock.now() + ACCESS_TTL_MS - event.expiresAt;
  assert.ok(shortfall >= 0 && shortfall <= 1000, `${shortfall}`);
  // The old token was still valid at the server when it was replaced.
  assert.ok(server.clock.now() <= oldExpiryAtServer - SKEW_MS);
  assert.ok((await client.me()).email);
  assert.equal(clock.pending().length, 1, 'the next refresh is scheduled');
});

for (const offset of [-3_600_000, 3_600_000]) {
  test(`a client clock ${offset > 0 ? 'ahead of' : 'behind'} the server by an hour still refreshes on time`, async (t) => {
    const { client, clock, server, net } = await loggedIn(t, { clockOffset: offset });
    // The token's exp read against the local clock would be an hour off; expiresIn is not.
    const [due] = clock.pending();
    assert.ok(due !== undefined);
    const untilDue = due - clock.now();
    assert.ok(untilDue >= ACCESS_TTL_MS - 2 * SKEW_MS && untilDue <= ACCESS_TTL_MS - SKEW_MS);
    // serverTime() follows the server's clock, not ours (token `iat`, one-second resolution).
    assert.ok(Math.abs(client.serverTime() - server.clock.now()) <= 1000);

    const refreshed = nextEvent((listener) => client.on('refresh', listener));
    server.clock.advance(untilDue);
    clock.advance(untilDue);
    await refreshed;
    assert.equal(net.count('/auth/refresh'), 1);
    const me = await client.fetch('/auth/me');
    assert.equal(me.status, 200);
    await me.body?.cancel();
    const token = net.requests.at(-1)?.headers.get('authorization')?.slice(7) ?? '';
    assert.equal(decodePayload(token)['iat'], Math.floor(server.clock.now() / 1000));
  });
}

test('short lifetimes are refreshed at most a quarter of their life early', async (t) => {
  const { client, clock } = await loggedIn(t, {
    env: { TESSERA_ACCESS_TTL: '20s' },
    client: { random: () => 0.5 },
  });
  const [due] = clock.pending();
  assert.ok(due !== undefined);
  // lead = min(10 s, 20 s / 4) = 5 s; jitter 0.5 × 5 s.
  assert.equal(clock.now() + 20_000 - due, 7_500);
  client.close();
});

test('without "keep me logged in" the session ends at expiry, with no refresh request', async (t) => {
  const { newClient, email, clock, net } = await setup(t);
  const client = newClient();
  await client.login({ email, password: PASSWORD, remember: false });
  const ended = nextEvent((listener) => client.on('end', listener));
  clock.advance(ACCESS_TTL_MS);
  assert.deepEqual(await ended, { reason: 'expired' });
  assert.equal(net.count('/auth/refresh'), 0);
  assert.deepEqual(clock.pending(), []);
});

test('a failed background refresh is retried with backoff, and the session survives', async (t) => {
  let offline = false;
  const { client, clock } = await loggedIn(t, {
    client: {
      fetch: (input, init) =>
        offline ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init),
    },
  });
  offline = true;
  const [due] = clock.pending();
  assert.ok(due !== undefined);
  clock.advanceTo(due);
  await settle();
  const [retry] = clock.pending();
  assert.equal(retry, due + 2000);
  offline = false;
  const refreshed = nextEvent((listener) => client.on('refresh', listener));
  clock.advanceTo(due + 2000);
  await refreshed;
  assert.ok((await client.me()).id);
});
