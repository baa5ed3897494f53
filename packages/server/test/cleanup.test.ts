import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Cleanup, type SweepResult } from '../src/maintenance/cleanup.ts';
import { scheduleCleanup, type CleanupLog } from '../src/maintenance/cleanup-schedule.ts';
import { PostgresStore } from '../src/stores/postgres/postgres-store.ts';
import { NOTHING_PURGED } from '../src/stores/purge.ts';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts';
import { createTestSchema, testPostgresUrl } from './helpers/postgres.ts';
import { call, login, signupAndLogin, startServer } from './helpers/test-server.ts';
import { DAY, rotation, sessionRecord, T0, tokenRecord, userRecord } from './store-contract/fixtures.ts';

// Issue 12 §2: what the cleanup job deletes, in batches, and that the SQLite file gives the space
// back. The contract suite pins what `purgeExpired` keeps; these tests pin the job around it.

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cleanup-'));
  dirs.push(dir);
  return join(dir, 'tessera.db');
}

/** The file's size once the WAL is folded back into it, as a backup or an operator would see it. */
function settledSize(file: string): number {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(file).size;
}

describe('the cleanup job on SQLite', () => {
  test('deletes thousands of dead sessions in bounded batches, and the file shrinks', async () => {
    const file = tempFile();
    const store = SqliteStore.open(file);
    try {
      const user = userRecord();
      await store.createUser(user);
      // 3,000 sessions of a busy day, each with its refresh token and a long user agent.
      for (let batch = 0; batch < 6; batch += 1) {
        await Promise.all(
          Array.from({ length: 500 }, () => {
            const session = sessionRecord(user.id, { userAgent: 'Mozilla/5.0 '.repeat(40) });
            return store.createSession(session, tokenRecord(session), user);
          }),
        );
      }
      const before = settledSize(file);

      const cleanup = new Cleanup(store, { auditRetention: 90 * 86_400, skewMs: 30_000, batchSize: 400 });
      const swept = await cleanup.sweep(T0 + 40 * DAY);
      assert.equal(swept.sessions, 3000);
      assert.ok(swept.batches >= 8, `${swept.batches} batches of at most 400`);
      assert.equal(swept.skipped, false);

      const afterSweep = settledSize(file);
      assert.ok(afterSweep < before / 3, `${before} bytes before, ${afterSweep} after`);
      const again = await cleanup.sweep(T0 + 40 * DAY);
      assert.deepEqual([again.sessions, again.refreshTokens, again.batches], [0, 0, 1]);
    } finally {
      await store.close();
    }
  });

  test('a file created before incremental vacuum is switched to it when opened', async () => {
    const file = tempFile();
    const old = new DatabaseSync(file);
    old.exec('CREATE TABLE leftover (x)');
    assert.equal(old.prepare('PRAGMA auto_vacuum').get()?.['auto_vacuum'], 0);
    old.close();
    const store = SqliteStore.open(file);
    await store.close();
    const reopened = new DatabaseSync(file);
    assert.equal(reopened.prepare('PRAGMA auto_vacuum').get()?.['auto_vacuum'], 2, 'INCREMENTAL');
    reopened.close();
  });

  test('after the lifetimes pass, only the sessions still in use remain and they keep working', async () => {
    const server = await startServer({ TESSERA_REFRESH_TTL: '1h', TESSERA_SESSION_MAX_AGE: '1h' });
    try {
      const gone = await signupAndLogin(server);
      const loggedOut = await login(server, gone.email);
      await call(server, 'POST', '/auth/logout', { token: loggedOut.accessToken });
      server.clock.advance(50 * 60_000);
      // Used just before its idle end: renewed for another hour.
      const kept = await login(server, gone.email);
      server.clock.advance(30 * 60_000);

      const swept = await server.app.tessera.cleanup.sweep(server.clock.now());
      assert.equal(swept.sessions, 2, 'the expired session and the logged-out one');
      assert.equal(await server.store.getSession(gone.sessionId), null);
      assert.equal(await server.store.getSession(loggedOut.sessionId), null);
      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: kept.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      const stale = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: gone.refreshToken },
      });
      assert.equal(stale.status, 401);
    } finally {
      await server.close();
    }
  });
});

const postgresUrl = testPostgresUrl();
if (postgresUrl !== undefined) {
  test('on PostgreSQL a batch and late replays of the tokens it deletes never deadlock', async () => {
    // Sessions idle since their first day (their absolute end still weeks away), each with a
    // family of five tokens; their old tokens are replayed while the job deletes them. A rotation
    // locks token, session and successor; the batch deletes tokens in its own order.
    const schema = await createTestSchema(postgresUrl);
    const store = await PostgresStore.open(schema.url, { maxConnections: 20 });
    try {
      const user = userRecord();
      await store.createUser(user);
      const families: string[][] = [];
      for (let i = 0; i < 40; i += 1) {
        const session = sessionRecord(user.id);
        const first = tokenRecord(session);
        await store.createSession(session, first, user);
        const family = [first.hash];
        for (let hour = 1; hour <= 4; hour += 1) {
          const next = rotation(family.at(-1)!, T0 + hour * 3_600_000);
          assert.equal((await store.rotateRefreshToken(next)).kind, 'rotated');
          family.push(next.successor.hash);
        }
        families.push(family);
      }
      const now = T0 + 8 * DAY;
      const cleanup = new Cleanup(store, { auditRetention: 90 * 86_400, skewMs: 30_000, batchSize: 7 });
      const replays = families.flatMap((family) =>
        family.slice(0, 3).map((hash) => store.rotateRefreshToken(rotation(hash, now))),
      );
      const sweeps = [cleanup.sweep(now), cleanup.sweep(now)];
      const outcomes = await Promise.all(replays); // a deadlock would reject one of them
      await Promise.all(sweeps);
      for (const outcome of outcomes) assert.ok(['reused', 'rejected'].includes(outcome.kind), outcome.kind);
      const rest = await cleanup.sweep(now);
      assert.equal(rest.skipped, false);
      for (const family of families)
        assert.equal(await store.findSessionByRefreshToken(family[0]!), null, 'all swept in the end');
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  test('on PostgreSQL one instance sweeps at a time: another finds the lock taken and skips', async () => {
    const schema = await createTestSchema(postgresUrl);
    const [first, second] = [await PostgresStore.open(schema.url), await PostgresStore.open(schema.url)];
    try {
      const cleanup = new Cleanup(second, { auditRetention: 90 * 86_400, skewMs: 30_000 });
      // The first instance is in the middle of a batch: it holds the lock in its transaction.
      const sweeping = new pg.Client({ connectionString: schema.url });
      await sweeping.connect();
      await sweeping.query('BEGIN');
      await sweeping.query(
        "SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))",
        [0x74736763],
      );
      assert.deepEqual(await second.purgeExpired(cleanup.cutoffs(T0), 100), null);
      assert.equal((await cleanup.sweep(T0)).skipped, true);
      await sweeping.query('COMMIT');
      await sweeping.end();
      assert.deepEqual(await first.purgeExpired(cleanup.cutoffs(T0), 100), NOTHING_PURGED);
    } finally {
      await first.close();
      await second.close();
      await schema.drop();
    }
  });
}

describe('the cleanup schedule', () => {
  /** What the schedule logged, line by line. */
  function recordingLog(): {
    lines: Array<{ level: 'info' | 'warn'; fields: object; message: string }>;
    log: CleanupLog;
  } {
    const lines: Array<{ level: 'info' | 'warn'; fields: object; message: string }> = [];
    return {
      lines,
      log: {
        info: (fields, message) => lines.push({ level: 'info', fields, message }),
        warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
      },
    };
  }

  /** The sweep result the schedule logged, if it logged one. */
  const swept = (lines: ReturnType<typeof recordingLog>['lines']): SweepResult | undefined =>
    (lines.find((line) => line.level === 'info')?.fields as { cleanup?: SweepResult } | undefined)?.cleanup;

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let waited = 0; !condition(); waited += 10) {
      if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  async function seedDead(store: SqliteStore, count: number): Promise<void> {
    const user = userRecord();
    await store.createUser(user);
    await Promise.all(
      Array.from({ length: count }, () => {
        const session = sessionRecord(user.id);
        return store.createSession(session, tokenRecord(session), user);
      }),
    );
  }

  test('a failing sweep is logged and the next interval sweeps again', async () => {
    const file = tempFile();
    const store = SqliteStore.open(file, { busyTimeoutMs: 20 });
    // Another process holds the write lock: every batch fails as `unavailable` meanwhile.
    const other = new DatabaseSync(file);
    try {
      await seedDead(store, 10);
      other.exec('BEGIN EXCLUSIVE');
      const { lines, log } = recordingLog();
      const cleanup = new Cleanup(store, { auditRetention: 90 * 86_400, skewMs: 30_000 });
      const schedule = scheduleCleanup(cleanup, 30, () => T0 + 40 * DAY, log);
      await until(() => lines.some((line) => line.level === 'warn'), 'a failed sweep');
      other.exec('COMMIT');
      await until(() => lines.some((line) => line.level === 'info'), 'a sweep after it');
      await schedule.stop();
      assert.match(lines.find((line) => line.level === 'warn')?.message ?? '', /cleanup failed/);
      assert.equal(swept(lines)?.sessions, 10);
    } finally {
      other.close();
      await store.close();
    }
  });

  test('stop ends a sweep between two batches and waits for it, so the store can close', async () => {
    const file = tempFile();
    const store = SqliteStore.open(file);
    try {
      await seedDead(store, 2000);
      const { lines, log } = recordingLog();
      const cleanup = new Cleanup(store, {
        auditRetention: 90 * 86_400,
        skewMs: 30_000,
        batchSize: 10,
        maxBatches: 1000,
      });
      const sweeping = cleanup.sweep.bind(cleanup);
      let started = false;
      cleanup.sweep = (now, signal) => ((started = true), sweeping(now, signal));
      const schedule = scheduleCleanup(cleanup, 1, () => T0 + 40 * DAY, log);
      await until(() => started, 'a sweep to start');
      await schedule.stop();
      const sessions = swept(lines)?.sessions ?? 0;
      assert.ok(sessions < 2000, `stopped before the end of the backlog (${sessions} deleted)`);
      assert.ok(
        lines.every((line) => line.level === 'info'),
        lines.map((l) => l.message).join(),
      );
    } finally {
      await store.close();
    }
  });
});
