import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { cleanup, freePort, runCli, spawnServer } from '../../server/test/helpers/server-process.ts';
import { databaseFile, deployment, stop } from './helpers/deployment.ts';
import { Keyring } from '../../server/src/index.ts';
import {
  call,
  decodeHeader,
  login,
  signupAndLogin,
  startServer,
  type LoggedIn,
} from '../../server/test/helpers/test-server.ts';

/**
 * Key rotation through the real `tessera` command (SPEC §3 "Keys"): the CLI writes the next key to
 * the database, a restarted server publishes both, keeps accepting tokens of the old key and signs
 * with the new one. Plus the command's exit codes for bad usage and bad configuration.
 */

after(cleanup);

async function jwksKids(server: { url: string }): Promise<string[]> {
  const reply = await call(server, 'GET', '/.well-known/jwks.json');
  assert.equal(reply.status, 200, reply.text);
  return (reply.body['keys'] as unknown as Array<{ kid: string }>).map((key) => key.kid).sort();
}

const kidOf = (session: LoggedIn): string => String(decodeHeader(session.accessToken)['kid']);

/** `keys list` lines by kid: `<kid>  <alg>  <state>  from <time>[ published until <time>]`. */
function listing(stdout: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of stdout.trim().split('\n')) {
    const match = /^(\S+)\s{2}/.exec(line);
    if (match?.[1]) lines.set(match[1], line);
  }
  return lines;
}

const ISO = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;

describe('tessera keys rotate', () => {
  test('rotate --now: both keys published after a restart, old tokens accepted, new ones signed by the new key', async () => {
    const env = deployment();
    const server = await spawnServer(env);
    const before = await signupAndLogin(server);
    const oldKid = kidOf(before);
    assert.deepEqual(await jwksKids(server), [oldKid]);
    await stop(server);

    const rotated = await runCli(['keys', 'rotate', '--now'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const announced = /^new RS256 key (\S+) published; signs from (\S+)$/m.exec(rotated.stdout);
    assert.ok(announced, `the output names the new key: ${rotated.stdout}`);
    const newKid = String(announced[1]);
    assert.notEqual(newKid, oldKid);

    const listed = await runCli(['keys', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listing(listed.stdout);
    assert.deepEqual([...lines.keys()].sort(), [oldKid, newKid].sort(), listed.stdout);
    assert.match(
      lines.get(oldKid) ?? '',
      new RegExp(`  RS256  retiring  from ${ISO} published until ${ISO}$`),
    );
    assert.match(lines.get(newKid) ?? '', new RegExp(`  RS256  active  from ${ISO}$`));
    // Published until every token the old key signed has expired: access TTL plus leeway.
    const until = Date.parse(/published until (\S+)$/.exec(lines.get(oldKid) ?? '')?.[1] ?? '');
    const activates = Date.parse(String(announced[2]));
    assert.equal(until - activates, (900 + 30) * 1000);

    const restarted = await spawnServer(env);
    try {
      assert.deepEqual(await jwksKids(restarted), [oldKid, newKid].sort());
      const old = await call(restarted, 'GET', '/auth/me', { token: before.accessToken });
      assert.equal(old.status, 200, `a token of the old key still works: ${old.text}`);
      const after = await login(restarted, before.email);
      assert.equal(kidOf(after), newKid, 'new tokens are signed by the new key');
      const me = await call(restarted, 'GET', '/auth/me', { token: after.accessToken });
      assert.equal(me.status, 200, me.text);
    } finally {
      await stop(restarted);
    }
  });

  test('rotate without --now: the next key is published as pending and does not sign yet', async () => {
    const env = deployment();
    const server = await spawnServer(env);
    const before = await signupAndLogin(server);
    const currentKid = kidOf(before);
    await stop(server);

    const rotated = await runCli(['keys', 'rotate'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const announced = /^new RS256 key (\S+) published; signs from (\S+)$/m.exec(rotated.stdout);
    assert.ok(announced, rotated.stdout);
    const pendingKid = String(announced[1]);
    // It signs only once verifiers' JWKS caches (max-age 300 s) can have seen it.
    assert.ok(Date.parse(String(announced[2])) - Date.now() > 290_000, rotated.stdout);

    const listed = await runCli(['keys', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listing(listed.stdout);
    assert.match(lines.get(pendingKid) ?? '', /  RS256  pending  from /);
    assert.match(lines.get(currentKid) ?? '', /  RS256  retiring  from .* published until /);

    const restarted = await spawnServer(env);
    try {
      assert.deepEqual(
        await jwksKids(restarted),
        [currentKid, pendingKid].sort(),
        'published before it signs',
      );
      const after = await login(restarted, before.email);
      assert.equal(kidOf(after), currentKid, 'new tokens keep the current key');
      const me = await call(restarted, 'GET', '/auth/me', { token: after.accessToken });
      assert.equal(me.status, 200, me.text);
    } finally {
      await stop(restarted);
    }
  });
});

describe('tessera exit codes', () => {
  test('bad usage exits 2', async () => {
    const env = deployment();
    const bogus = await runCli(['keys', 'bogus'], env);
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.match(bogus.stderr, /usage: tessera keys list \| tessera keys rotate \[--now\]/);
    const badFlag = await runCli(['keys', 'rotate', '--later'], env);
    assert.equal(badFlag.code, 2, badFlag.stderr);
    const unknown = await runCli(['frobnicate'], env);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const none = await runCli([], env);
    assert.equal(none.code, 2);
  });

  test('a bad setting makes serve exit 2 naming the variable, without ever listening', async () => {
    const port = await freePort();
    const env = deployment();
    const run = await runCli(['serve'], { ...env, TESSERA_PORT: String(port), TESSERA_ACCESS_TTL: 'abc' });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /TESSERA_ACCESS_TTL/);
    assert.equal(existsSync(databaseFile(env)), false, 'stopped before opening the database');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    assert.ok(refused, 'nothing listens on the configured port');
  });

  test('a bad setting makes keys commands exit 2 too, before touching the database', async () => {
    const env = deployment();
    const run = await runCli(['keys', 'list'], { ...env, TESSERA_SIGNING_ALG: 'none' });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /TESSERA_SIGNING_ALG/);
    assert.equal(existsSync(databaseFile(env)), false, 'no database file created');
  });
});

describe('tessera with a database that does not answer', () => {
  test('exits 1 with one line naming TESSERA_DATABASE_URL, no stack trace', async () => {
    const port = await freePort(); // nothing listens there
    const run = await runCli(['keys', 'list'], {
      TESSERA_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
      TESSERA_LOG_LEVEL: 'warn',
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^tessera: cannot reach the database \(TESSERA_DATABASE_URL\)/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('key retirement (in process, fake clock)', () => {
  test('a rotated-out key stays published for access TTL + leeway, then disappears', async () => {
    const server = await startServer();
    try {
      const { keyring } = server.app.tessera;
      const before = await signupAndLogin(server);
      const oldKid = kidOf(before);
      const now = server.clock.now();
      const next = await keyring.rotate(now, now);
      await keyring.load();
      assert.notEqual(next.kid, oldKid);
      assert.deepEqual(await jwksKids(server), [oldKid, next.kid].sort());

      const old = await call(server, 'GET', '/auth/me', { token: before.accessToken });
      assert.equal(old.status, 200, `the old key's token is still accepted: ${old.text}`);
      const after = await login(server, before.email);
      assert.equal(kidOf(after), next.kid);

      // The old key's last token expires at 900 s and is accepted for 30 s more: still published.
      server.clock.advanceSeconds(929);
      assert.deepEqual(await jwksKids(server), [oldKid, next.kid].sort());
      const late = await call(server, 'GET', '/auth/me', { token: before.accessToken });
      assert.equal(late.status, 200, `within exp + leeway: ${late.text}`);

      server.clock.advanceSeconds(2);
      assert.deepEqual(await jwksKids(server), [next.kid], 'only the new key is published');
      const gone = await call(server, 'GET', '/auth/me', { token: before.accessToken });
      assert.equal(gone.status, 401, gone.text);
      const fresh = await login(server, before.email);
      assert.equal(kidOf(fresh), next.kid);
      const me = await call(server, 'GET', '/auth/me', { token: fresh.accessToken });
      assert.equal(me.status, 200, me.text);
    } finally {
      await server.close();
    }
  });

  test('a pending key superseded by rotate --now never signs and is withdrawn', async () => {
    const server = await startServer();
    try {
      const { keyring } = server.app.tessera;
      const before = await signupAndLogin(server);
      const firstKid = kidOf(before);
      const now = server.clock.now();
      // `keys rotate` (signs in 5 minutes), then `keys rotate --now`.
      const pending = await keyring.rotate(now, now + 300_000);
      const urgent = await keyring.rotate(now, now);
      assert.deepEqual(
        await jwksKids(server),
        [firstKid, urgent.kid].sort(),
        'the superseded key is withdrawn',
      );

      // Past the superseded key's activation time, the --now key keeps signing.
      server.clock.advanceSeconds(301);
      const later = await login(server, before.email);
      assert.equal(kidOf(later), urgent.kid);
      assert.notEqual(kidOf(later), pending.kid);

      // After the first key's retirement only the --now key is published, and a token signed at
      // +301 s (valid until +1201 s) is still accepted.
      server.clock.advanceSeconds(640);
      assert.deepEqual(await jwksKids(server), [urgent.kid]);
      const me = await call(server, 'GET', '/auth/me', { token: later.accessToken });
      assert.equal(me.status, 200, me.text);
    } finally {
      await server.close();
    }
  });
});

describe('tessera keys rotate refuses what would break the servers', () => {
  test('configured for another algorithm than the servers sign with: exit 2, nothing retired', async () => {
    const env = { ...deployment(), TESSERA_SIGNING_ALG: 'ES256' };
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const first = await runCli(['keys', 'rotate', '--now'], env);
    assert.equal(first.code, 0, first.stderr);
    const before = await runCli(['keys', 'list'], env);

    const wrong = await runCli(['keys', 'rotate', '--now'], { ...env, TESSERA_SIGNING_ALG: 'RS256' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /sign with ES256.*TESSERA_SIGNING_ALG=ES256/);
    assert.equal((await runCli(['keys', 'list'], env)).stdout, before.stdout, 'no key added or retired');
  });

  test('HS256 with TESSERA_HS256_SECRET set: rotating would reuse the secret, so it is refused', async () => {
    const env = {
      ...deployment(),
      TESSERA_SIGNING_ALG: 'HS256',
      TESSERA_HS256_SECRET: Buffer.alloc(32, 7).toString('base64url'),
    };
    const run = await runCli(['keys', 'rotate', '--now'], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /TESSERA_HS256_SECRET is set/);
    assert.doesNotMatch(
      run.stderr + run.stdout,
      new RegExp(env.TESSERA_HS256_SECRET),
      'the secret is never printed',
    );
  });
});

describe('a keyring configured for another algorithm (in process)', () => {
  test("rotating RS256 keys leaves the ES256 servers' key signing", async () => {
    const server = await startServer({ TESSERA_SIGNING_ALG: 'ES256' });
    try {
      const session = await signupAndLogin(server);
      const stranger = new Keyring(server.store, { alg: 'RS256', retireAfterSeconds: 930 });
      await stranger.rotate(server.clock.now(), server.clock.now());
      await server.app.tessera.keyring.load();
      server.clock.advanceSeconds(931);
      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(decodeHeader(String(refreshed.body['accessToken']))['alg'], 'ES256');
    } finally {
      await server.close();
    }
  });
});
