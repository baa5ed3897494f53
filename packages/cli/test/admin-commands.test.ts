import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PasswordHasher, SqliteStore } from '@tessera/server';
import { cleanup, runCli, spawnServer } from '../../server/test/helpers/server-process.ts';
import { databaseFile, deployment, stop } from './helpers/deployment.ts';
import {
  call,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  uniqueEmail,
  type LoggedIn,
} from '../../server/test/helpers/test-server.ts';

/**
 * `tessera users|sessions|token` as real processes against the database of a running `tessera
 * serve` (issue 7): the first admin made from the shell, role and status changes felt by the
 * server, sessions listed and revoked, tokens decoded and verified, each change audited as `cli`.
 */

after(cleanup);

/** Runs the CLI and expects it to exit with `code`. */
async function cli(args: string[], env: Record<string, string>, code = 0, input?: string) {
  const run = await runCli(args, env, input === undefined ? {} : { input });
  assert.equal(run.code, code, `tessera ${args.join(' ')}: ${run.stdout}${run.stderr}`);
  return run;
}

/** Polls until `check` passes (a change made by another process reaches the server within ~1 s). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`not within 5 s: ${what}`);
}

describe('tessera users', () => {
  test('create the first admin from stdin; set-role, disable and enable are felt by the server and audited', async () => {
    const env = deployment();
    const server = await spawnServer(env);
    try {
      const adminEmail = uniqueEmail('admin');
      const created = await cli(
        ['users', 'create', '--email', adminEmail, '--role', 'admin'],
        env,
        0,
        `${PASSWORD}\n`,
      );
      assert.match(created.stdout, /^created admin \S+ \(id \S+\)$/m);
      const admin = await login(server, adminEmail);
      const users = await call(server, 'GET', '/admin/users', { token: admin.accessToken });
      assert.equal(users.status, 200, users.text);
      // The same email again is refused (exit 1), without a stack trace.
      const again = await cli(['users', 'create', '--email', adminEmail], env, 1, `${PASSWORD}\n`);
      assert.match(again.stderr, /^tessera: .*\(email_taken\)$/m);

      // A user promoted by the CLI gets into the admin API with their next token.
      const user = await signupAndLogin(server);
      const before = await call(server, 'GET', '/admin/users', { token: user.accessToken });
      assert.equal(before.status, 403);
      const promoted = await cli(['users', 'set-role', user.email, 'admin'], env);
      assert.match(
        promoted.stdout,
        new RegExp(`^${user.userId}  ${user.email}  admin  active  created `, 'm'),
      );
      const asAdmin = await login(server, user.email);
      const allowed = await call(server, 'GET', '/admin/audit', { token: asAdmin.accessToken });
      assert.equal(allowed.status, 200, allowed.text);

      // Disable: logins are refused, and the running server refuses the live token within a second.
      await cli(['users', 'disable', user.userId], env);
      const refused = await call(server, 'POST', '/auth/login', {
        body: { email: user.email, password: PASSWORD },
      });
      assert.equal(refused.status, 401);
      await eventually(async () => {
        const me = await call(server, 'GET', '/auth/me', { token: asAdmin.accessToken });
        return me.status === 401 && me.body['error'] === 'token_revoked';
      }, 'the disabled user’s token refused');
      const refresh = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: asAdmin.refreshToken },
      });
      assert.equal(refresh.body['error'], 'invalid_grant');
      await cli(['users', 'enable', user.email], env);
      await login(server, user.email);

      const audit = await call(server, 'GET', `/admin/audit?subject=${user.userId}`, {
        token: admin.accessToken,
      });
      const byCli = (audit.body['items'] as Array<{ actor: string; action: string }>)
        .filter((entry) => entry.actor === 'cli')
        .map((entry) => entry.action);
      assert.deepEqual(byCli, ['user_enabled', 'user_disabled', 'role_changed']);

      // A key rotation from the shell is audited as the CLI's too.
      await cli(['keys', 'rotate'], env);
      const latest = await call(server, 'GET', '/admin/audit?limit=1', { token: admin.accessToken });
      const [rotated] = latest.body['items'] as Array<{ actor: string; action: string }>;
      assert.deepEqual([rotated?.actor, rotated?.action], ['cli', 'key_rotated']);
    } finally {
      await stop(server);
    }
  });

  test('create with --password-file; list by query; refusals exit 1, bad usage 2', async () => {
    const env = deployment();
    const file = join(databaseFile(env), '..', 'password.txt');
    writeFileSync(file, `${PASSWORD}\n`);
    const prefix = `listed${process.pid}`;
    for (const name of ['a', 'b']) {
      await cli(
        ['users', 'create', '--email', `${prefix}${name}@example.test`, '--password-file', file],
        env,
      );
    }
    await cli(['users', 'create', '--email', uniqueEmail('other'), '--name', 'Other'], env, 0, PASSWORD);
    const listed = await cli(['users', 'list', '--query', prefix.toUpperCase()], env);
    const lines = listed.stdout.trim().split('\n');
    assert.equal(lines.length, 3, listed.stdout);
    assert.match(lines[0] ?? '', new RegExp(`  ${prefix}b@example.test  user  active  created `));
    assert.match(lines[1] ?? '', new RegExp(`  ${prefix}a@example.test  user  active  created `));
    assert.equal(lines[2], '2 users');
    const limited = await cli(['users', 'list', '--limit', '1'], env);
    assert.match(limited.stdout, /^1 user \(more: --cursor [A-Za-z0-9_-]+\)$/m);

    // The last admin cannot be demoted or disabled, from the shell either.
    await cli(['users', 'set-role', `${prefix}a@example.test`, 'admin'], env);
    const last = await cli(['users', 'disable', `${prefix}a@example.test`], env, 1);
    assert.match(last.stderr, /no enabled admin/);
    await cli(['users', 'set-role', 'no-such-user', 'admin'], env, 1);
    const weak = await cli(['users', 'create', '--email', uniqueEmail()], env, 1, 'short');
    assert.match(weak.stderr, /invalid_request/);
    await cli(['users', 'create', '--email', uniqueEmail()], env, 2); // no password on stdin
    await cli(['users', 'create'], env, 2);
    await cli(['users', 'set-role', 'someone'], env, 2);
    await cli(['users', 'set-role', 'someone', 'root'], env, 2);
    await cli(['users', 'list', '--limit', '500'], env, 2);
    await cli(['users', 'list', '--bogus'], env, 2);
    await cli(['users', 'list', '--limit', '0'], env, 2);
    const badCursor = await cli(['users', 'list', '--cursor', 'not a cursor'], env, 2);
    assert.match(
      badCursor.stderr,
      /^tessera: --cursor "not a cursor" is not a cursor printed by users list$/m,
    );
    await cli(['users', 'frobnicate'], env, 2);
    for (const command of ['users', 'sessions', 'token']) {
      const help = await cli([command, '--help'], env);
      assert.match(help.stdout, new RegExp(`^Usage: tessera ${command} <action>`));
    }
    const usage = await cli(['--help'], env);
    for (const line of ['users create', 'users set-role', 'sessions revoke', 'token verify']) {
      assert.ok(usage.stdout.includes(line), line);
    }
  });
});

describe('tessera users list pages', () => {
  // 130 accounts written straight into the deployment's SQLite file with one shared password hash
  // (hashing 130 passwords would only slow the test down). Creation times repeat, seven accounts
  // a millisecond, so pages must also break ties by id to neither skip nor repeat anyone.
  const COUNT = 130;
  const env = deployment();
  const emails = new Set<string>();
  /** Every email in the order the list must give: newest first, then the greater id first. */
  let newestFirst: string[] = [];

  before(async () => {
    const store = SqliteStore.open(databaseFile(env));
    try {
      const passwordHash = await new PasswordHasher().hash(PASSWORD);
      const base = Date.now();
      for (let i = 0; i < COUNT; i += 1) {
        const email = `paged${String(i).padStart(3, '0')}@example.test`;
        const createdAt = base + Math.floor(i / 7);
        emails.add(email);
        await store.createUser({
          id: randomUUID(),
          email,
          name: null,
          passwordHash,
          role: 'user',
          createdAt,
          updatedAt: createdAt,
          disabledAt: null,
          emailVerifiedAt: null,
        });
      }
      const records = await Promise.all([...emails].map((email) => store.getUserByEmail(email)));
      newestFirst = records
        .map((user) => user!)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((user) => user.email);
    } finally {
      await store.close();
    }
  });

  /** The emails of `users list` output lines, and its summary line. */
  function parse(stdout: string): { listed: string[]; summary: string } {
    const lines = stdout.trimEnd().split('\n');
    const summary = lines.pop() ?? '';
    return { listed: lines.map((line) => line.split('  ')[1] ?? line), summary };
  }

  test('--cursor follows a page with the next one until every user was listed once', async () => {
    const listed: string[] = [];
    let args = ['users', 'list', '--limit', '100'];
    const summaries: string[] = [];
    for (let pages = 0; pages < 5; pages += 1) {
      const page = parse((await cli(args, env)).stdout);
      listed.push(...page.listed);
      summaries.push(page.summary);
      const next = / \(more: --cursor ([A-Za-z0-9_-]+)\)$/.exec(page.summary)?.[1];
      if (next === undefined) break;
      args = ['users', 'list', '--limit', '100', '--cursor', next];
    }
    assert.deepEqual(
      summaries.map((line) => line.replace(/--cursor \S+\)/, '--cursor C)')),
      ['100 users (more: --cursor C)', '30 users'],
    );
    assert.equal(listed.length, COUNT, 'nobody listed twice');
    assert.deepEqual(new Set(listed), emails);
    assert.deepEqual(listed, newestFirst, 'newest first');
  });

  test('--all prints every page, with progress on stderr; --query still narrows', async () => {
    const run = await cli(['users', 'list', '--all', '--limit', '40'], env);
    const { listed, summary } = parse(run.stdout);
    assert.equal(summary, `${COUNT} users`);
    assert.deepEqual(listed, newestFirst);
    assert.deepEqual(run.stderr.trimEnd().split('\n'), [
      'page 1: 40 users, 40 so far',
      'page 2: 40 users, 80 so far',
      'page 3: 40 users, 120 so far',
    ]);

    const defaultPages = await cli(['users', 'list', '--all'], env);
    assert.equal(parse(defaultPages.stdout).summary, `${COUNT} users`);
    assert.equal(defaultPages.stderr, 'page 1: 100 users, 100 so far\n');

    const narrowed = await cli(['users', 'list', '--all', '--limit', '3', '--query', 'PAGED01'], env);
    assert.deepEqual(parse(narrowed.stdout), {
      listed: newestFirst.filter((email) => email.startsWith('paged01')),
      summary: '10 users',
    });

    // A cursor from the middle, then --all: the rest, and only the rest.
    const first = parse((await cli(['users', 'list', '--limit', '25'], env)).stdout);
    const cursor = / \(more: --cursor (\S+)\)$/.exec(first.summary)?.[1] ?? '';
    const rest = parse((await cli(['users', 'list', '--all', '--cursor', cursor], env)).stdout);
    assert.equal(rest.summary, `${COUNT - 25} users`);
    assert.deepEqual([...first.listed, ...rest.listed], newestFirst);
  });
});

describe('tessera sessions and token', () => {
  test('list and revoke a session; decode and verify tokens', async () => {
    const env = deployment();
    const server = await spawnServer(env);
    let session: LoggedIn;
    try {
      session = await signupAndLogin(server);
      const listed = await cli(['sessions', 'list', session.email], env);
      assert.match(listed.stdout, new RegExp(`^${session.sessionId}  created .* 127\\.0\\.0\\.1  `, 'm'));
      assert.match(listed.stdout, /^1 live session$/m);

      const decoded = await cli(['token', 'decode', session.accessToken], env);
      assert.match(decoded.stdout, /^UNVERIFIED/);
      assert.ok(decoded.stdout.includes(`"sub": "${session.userId}"`), decoded.stdout);
      assert.ok(decoded.stdout.includes('"typ": "at+jwt"'), decoded.stdout);
      await cli(['token', 'decode', 'not-a-jwt'], env, 1);

      const valid = await cli(['token', 'verify', session.accessToken], env);
      assert.match(valid.stdout, new RegExp(`^valid: sub ${session.userId}, role user, `));
      const [header, claims] = session.accessToken.split('.');
      const forged = `${header}.${claims}.${'A'.repeat(342)}`;
      const invalid = await cli(['token', 'verify', forged], env, 1);
      assert.match(invalid.stdout, /^invalid \(invalid_token\): /);

      await cli(['sessions', 'revoke', session.sessionId], env);
      await cli(['sessions', 'revoke', session.sessionId], env, 1); // already revoked
      const revoked = await cli(['token', 'verify', session.accessToken], env, 1);
      assert.match(revoked.stdout, /^revoked \(token_revoked\): session \S+ was revoked \(admin_revoked\)/);
      await eventually(async () => {
        const me = await call(server, 'GET', '/auth/me', { token: session.accessToken });
        return me.body['error'] === 'token_revoked';
      }, 'the revoked session’s token refused by the server');
      const emptied = await cli(['sessions', 'list', session.userId], env);
      assert.match(emptied.stdout, /^0 live sessions$/m);
      await cli(['sessions', 'list'], env, 2);
      await cli(['token', 'verify'], env, 2);
    } finally {
      await stop(server);
    }
  });

  test('verify says expired, with the code, for a token past its exp', async () => {
    // An in-process server on a fake clock (1 January 2026) issues a token long expired by now.
    const env = deployment();
    const dir = join(databaseFile(env), '..');
    const server = await startServer({}, { dir });
    let token: string;
    try {
      token = (await signupAndLogin(server)).accessToken;
    } finally {
      await server.close({ keepData: true });
    }
    const expired = await cli(['token', 'verify', token], env, 1);
    assert.match(expired.stdout, /^expired \(token_expired\)/);
  });
});
