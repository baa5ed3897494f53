import pg from 'pg';
import { EmailTakenError, InvalidRequestError, UnavailableError } from '@tessera/protocol';
import { MIGRATIONS } from '../migrations.ts';
import {
  NOTHING_PURGED,
  PURGE_COUNTERS,
  PURGE_RECOVERY,
  PURGE_REVOCATIONS,
  PURGE_SESSIONS,
  postgresPurge,
  purgePlan,
  type PurgeCounts,
  type PurgeCutoffs,
  type PurgeStatement,
} from '../purge.ts';
import {
  revokedFrom,
  revokedFromRow,
  sessionFromRow,
  tokenFromRow,
  USER_COLUMNS,
  userFromRow,
  userValues,
  type Row,
} from '../rows.ts';
import type {
  PasswordChange,
  PasswordChangeOutcome,
  RefreshTokenRecord,
  RevokeReason,
  RevokedSession,
  RotationOutcome,
  RotationRequest,
  SessionRecord,
  Page,
  Store,
  UserChange,
  UserChangeOutcome,
  UserCursor,
  UserQuery,
  UserRecord,
  VerifiedLogin,
} from '../store.ts';
import {
  listUsersStatement,
  planUserChange,
  UPDATE_USER_SQL,
  USER_AND_ADMINS_SQL,
  usersPage,
} from '../admin-sql.ts';
import type { MfaStore } from '../mfa/mfa-store.ts';
import { SqlMfaStore } from '../mfa/sql-mfa-store.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import { SqlOutboxStore } from '../outbox/sql-outbox-store.ts';
import type { RecoveryStore } from '../recovery/recovery-store.ts';
import { SqlRecoveryStore } from '../recovery/sql-recovery-store.ts';
import { runPlanAsync, type Query, type SqlPlan } from '../sql-plan.ts';
import type { AuditStore } from '../audit/audit-store.ts';
import { SqlAuditStore } from '../audit/sql-audit-store.ts';
import type { CounterStore } from '../counters/counter-store.ts';
import { PostgresCounterStore } from '../counters/postgres-counter-store.ts';
import type { KeyStore } from '../keys/key-store.ts';
import { SqlKeyStore } from '../keys/sql-key-store.ts';
import {
  insertToken,
  lockMigrations,
  one,
  tryLockCleanup,
  revokeWhere,
  toError,
  touchSession,
} from './statements.ts';

const UNIQUE_VIOLATION = '23505';
const RETRY_AFTER_SECONDS = 5;
/** The cleanup's statements but the revocation log's, which runs in a transaction of its own. */
const POSTGRES_PURGE = postgresPurge([...PURGE_SESSIONS, ...PURGE_RECOVERY, PURGE_COUNTERS]);

export interface PostgresStoreOptions {
  /** Connections this instance may hold (default 10). */
  maxConnections?: number;
  /** A connection attempt, or a wait for a free pooled connection, longer than this fails (ms). */
  connectTimeoutMs?: number;
  /** A statement that has not answered within this fails, on the server and at the client (ms). */
  queryTimeoutMs?: number;
}

/**
 * The scale-out store: PostgreSQL through a `pg` pool, shared by any number of instances. Every
 * change to more than one row runs in one transaction on one pooled connection. Where SQLite gets
 * its isolation from running each transaction without yielding, this store takes row locks: a
 * rotation locks the presented token, its session and its successor (`SELECT … FOR UPDATE`)
 * before asking the policy, so a concurrent rotation of the same token, on this instance or
 * another, waits and then decides on the state this one committed.
 *
 * A lost connection or a timeout fails the call as `UnavailableError` (503 with `Retry-After`);
 * the pool drops the broken connection and opens fresh ones on the next calls, so service resumes
 * by itself when PostgreSQL is back.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  #closed = false;

  readonly keys: KeyStore = new SqlKeyStore(this);
  readonly counters: CounterStore = new PostgresCounterStore(this);
  readonly audit: AuditStore = new SqlAuditStore(this);
  readonly recovery: RecoveryStore = new SqlRecoveryStore(this);
  readonly outbox: OutboxStore = new SqlOutboxStore(this);
  readonly mfa: MfaStore = new SqlMfaStore(this);

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** A plan shared with SQLite (`sql-plan.ts`), run in one transaction. */
  runPlan<T>(plan: () => SqlPlan<T>): Promise<T> {
    return this.#guard(async () => {
      try {
        return await this.#transaction((db) =>
          runPlanAsync(plan(), async (query) => (await db.query<Row>(query.sql, query.params)).rows),
        );
      } catch (error) {
        // A plan checks an address is free before taking it (an email change), but a sign-up or
        // another change can commit it in between: the unique index decides, as for sign-up.
        const { code, constraint } = error as { code?: unknown; constraint?: unknown };
        if (code === UNIQUE_VIOLATION && constraint === 'users_email_key')
          throw new EmailTakenError({ cause: error });
        throw error;
      }
    });
  }

  /** One statement on a pooled connection, without `BEGIN … COMMIT`: atomic by itself. */
  runStatement(query: Query): Promise<Row[]> {
    return this.#guard(async () => (await this.#pool.query<Row>(query.sql, query.params)).rows);
  }

  /**
   * Connects to `url` (`postgres://…`; `?options=-c search_path=…` selects a schema) and applies
   * pending migrations. Rejects with `UnavailableError` when PostgreSQL does not answer.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      statement_timeout: queryTimeoutMs,
      // The client-side bound also covers a network that stopped answering altogether.
      query_timeout: queryTimeoutMs + 1000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'tessera',
    });
    // A pooled connection that dies while idle (PostgreSQL restarted, a proxy cut it) is dropped
    // by the pool, which then reports it here; without a listener the process would crash. The
    // next call opens a fresh connection, or fails as `unavailable` if there is none to open.
    pool.on('error', () => {});
    const store = new PostgresStore(pool);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  /**
   * Applies every migration newer than the database's recorded version; returns how many this call
   * ran. Each runs in its own transaction under an advisory lock scoped to the current schema, so
   * instances starting together migrate once and the others find the work done.
   */
  async migrate(): Promise<number> {
    return this.#guard(async () => {
      await this.#transaction(async (db) => {
        await lockMigrations(db);
        await db.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
        );
      });
      const row = await this.#oneRow('SELECT MAX(version) AS version FROM schema_migrations', []);
      const current = Number(row?.['version'] ?? 0);
      let applied = 0;
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        const ran = await this.#transaction(async (db) => {
          await lockMigrations(db);
          // Another instance may have applied it while we waited for the lock.
          const done = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
            migration.version,
          ]);
          if (done.rowCount !== 0) return false;
          await db.query(migration.postgres);
          await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            Date.now(),
          ]);
          return true;
        });
        if (ran) applied += 1;
      }
      return applied;
    });
  }

  async ping(): Promise<void> {
    await this.#guard(() => this.#pool.query('SELECT 1'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async createUser(user: UserRecord): Promise<void> {
    await this.#guard(async () => {
      try {
        await this.#pool.query(
          `INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          userValues(user),
        );
      } catch (error) {
        if ((error as { code?: unknown }).code === UNIQUE_VIOLATION)
          throw new EmailTakenError({ cause: error });
        throw error;
      }
    });
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    return this.#one('SELECT * FROM users WHERE id = $1', [id], userFromRow);
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#one('SELECT * FROM users WHERE email = $1', [email], userFromRow);
  }

  async changePassword(change: PasswordChange, now: number): Promise<PasswordChangeOutcome> {
    return this.#guard(() =>
      this.#transaction(async (db): Promise<PasswordChangeOutcome> => {
        // The UPDATE locks the user row: a racing change waits, then finds the hash changed and
        // matches nothing; a racing login's session insert (FOR SHARE below) waits likewise.
        const updated = await db.query(
          `UPDATE users SET password_hash = $1, updated_at = $2
           WHERE id = $3 AND password_hash = $4 AND disabled_at IS NULL
             AND EXISTS (SELECT 1 FROM sessions WHERE id = $5 AND user_id = users.id AND revoked_at IS NULL)`,
          [change.newHash, now, change.userId, change.currentHash, change.keepSessionId],
        );
        if (updated.rowCount !== 1) return { kind: 'stale' };
        // A new statement, a new snapshot: it sees every session committed before the lock was ours.
        const revoked = await revokeWhere(
          db,
          'user_id = $3 AND id != $4',
          [change.userId, change.keepSessionId],
          'password_changed',
          now,
        );
        return { kind: 'changed', revoked };
      }),
    );
  }

  async createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    verified: VerifiedLogin,
  ): Promise<boolean> {
    return this.#guard(() =>
      this.#transaction(async (db) => {
        // FOR SHARE: a password or role change holding the user row makes this wait and then
        // re-check the hash and role against the committed row; one that comes later waits for this
        // session to commit and revokes it. Either way no session outlives the password it was
        // verified against, nor starts with a role the user no longer has.
        const inserted = await db.query(
          `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, idle_expires_at,
             access_expires_at, revoked_at, revoke_reason, user_agent, ip, amr, auth_time)
           SELECT $1, id, $2, $3, $4, $5, $6, NULL, NULL, $7, $8, $12, $13 FROM users
           WHERE id = $9 AND password_hash = $10 AND role = $11 AND disabled_at IS NULL
           FOR SHARE`,
          [
            session.id,
            session.createdAt,
            session.lastUsedAt,
            session.expiresAt,
            session.idleExpiresAt,
            session.accessExpiresAt,
            session.userAgent,
            session.ip,
            session.userId,
            verified.passwordHash,
            verified.role,
            session.amr.join(' '),
            session.authTime,
          ],
        );
        if (inserted.rowCount !== 1) return false;
        if (token) await insertToken(db, token);
        return true;
      }),
    );
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.#one('SELECT * FROM sessions WHERE id = $1', [id], sessionFromRow);
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#guard(async () => {
      const result = await this.#pool.query<Row>(
        `SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2
         ORDER BY created_at DESC`,
        [userId, now],
      );
      return result.rows.map(sessionFromRow);
    });
  }

  async findSessionByRefreshToken(hash: string): Promise<SessionRecord | null> {
    return this.#one(
      'SELECT s.* FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = $1',
      [hash],
      sessionFromRow,
    );
  }

  async rotateRefreshToken(request: RotationRequest): Promise<RotationOutcome> {
    return this.#guard(() =>
      this.#transaction(async (db): Promise<RotationOutcome> => {
        const { now } = request;
        // Lock, then decide: each row stays locked until commit, so a concurrent rotation of the
        // same family waits on the first SELECT and then reads what this one committed. The
        // session first, then its tokens: two rotations of one family (a token and its successor,
        // from two tabs or a replay) take the locks in the same order, where token-first had each
        // hold a token the other needed (a deadlock, failed by PostgreSQL as a 503).
        const session = await one(
          db,
          `SELECT s.* FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1
           FOR UPDATE OF s`,
          [request.presentedHash],
          sessionFromRow,
        );
        const token =
          session &&
          (await one(
            db,
            'SELECT * FROM refresh_tokens WHERE hash = $1 FOR UPDATE',
            [request.presentedHash],
            tokenFromRow,
          ));
        const successor =
          token?.successorHash != null
            ? await one(
                db,
                'SELECT * FROM refresh_tokens WHERE hash = $1 FOR UPDATE',
                [token.successorHash],
                tokenFromRow,
              )
            : null;
        const decision = request.decide(token && session ? { token, session, successor } : null);

        switch (decision.kind) {
          case 'reject':
            return { kind: 'rejected', code: decision.code, reason: decision.reason };
          case 'reuse': {
            const [revoked] = await revokeWhere(db, 'id = $3', [token!.sessionId], decision.reason, now);
            return { kind: 'reused', revoked: revoked ?? revokedFrom(session!) };
          }
          case 'grace':
            return {
              kind: 'grace',
              session: await touchSession(db, session!.id, now, request.accessExpiresAt, null),
              current: successor!,
              sealedCurrent: token!.successorSealed!,
            };
          case 'rotate': {
            const consumed = await db.query(
              `UPDATE refresh_tokens SET consumed_at = $1, successor_hash = $2, successor_sealed = $3
               WHERE hash = $4 AND consumed_at IS NULL`,
              [now, request.successor.hash, request.successor.sealedForPresented, request.presentedHash],
            );
            // The row is locked and was unconsumed when the policy saw it: a miss means the
            // invariant broke, so refuse rather than mint a second successor.
            if (consumed.rowCount !== 1) throw new Error('refresh rotation lost its compare-and-set');
            const next: RefreshTokenRecord = {
              hash: request.successor.hash,
              sessionId: session!.id,
              parentHash: request.presentedHash,
              createdAt: now,
              expiresAt: decision.successorExpiresAt,
              consumedAt: null,
              successorHash: null,
              successorSealed: null,
            };
            await insertToken(db, next);
            return {
              kind: 'rotated',
              session: await touchSession(
                db,
                session!.id,
                now,
                request.accessExpiresAt,
                decision.successorExpiresAt,
              ),
              token: next,
            };
          }
        }
      }),
    );
  }

  async revokeSession(id: string, reason: RevokeReason, now: number): Promise<RevokedSession | null> {
    return this.#guard(() =>
      this.#transaction(async (db) => (await revokeWhere(db, 'id = $3', [id], reason, now))[0] ?? null),
    );
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, now: number): Promise<RevokedSession[]> {
    return this.#guard(() =>
      this.#transaction((db) => revokeWhere(db, 'user_id = $3', [userId], reason, now)),
    );
  }

  async listRevocations(
    after: number,
    cursor: number,
  ): Promise<{ cursor: number; revoked: RevokedSession[] }> {
    return this.#guard(async () => {
      const { rows } = await this.#pool.query<Row>(
        `SELECT seq, session_id AS id, user_id, revoked_at, access_expires_at FROM revocations
         WHERE seq > $1 ORDER BY seq LIMIT 10000`,
        [cursor],
      );
      const last = rows.at(-1);
      return {
        cursor: last ? Number(last['seq']) : cursor,
        revoked: rows.filter((row) => Number(row['access_expires_at']) > after).map(revokedFromRow),
      };
    });
  }

  async purgeExpired(cutoffs: PurgeCutoffs, limit: number): Promise<PurgeCounts | null> {
    const counts = await this.#purgeLocked(POSTGRES_PURGE, cutoffs, limit, {
      ...NOTHING_PURGED,
    });
    // Its own short transaction (see `PURGE_REVOCATIONS`); skipped if another instance took the
    // lock in between, which then does it.
    return counts && ((await this.#purgeLocked([PURGE_REVOCATIONS], cutoffs, limit, counts)) ?? counts);
  }

  /** One transaction under the cleanup lock; `null` when another instance holds it. */
  async #purgeLocked(
    statements: readonly PurgeStatement[],
    cutoffs: PurgeCutoffs,
    limit: number,
    counts: PurgeCounts,
  ): Promise<PurgeCounts | null> {
    return this.#guard(() =>
      this.#transaction(async (db) => {
        if (!(await tryLockCleanup(db))) return null;
        const deleted = { ...counts };
        for (const step of purgePlan(statements, cutoffs, limit, deleted)) {
          const { rowCount } = await db.query(step.sql, [step.cutoff, step.room]);
          deleted[step.kind] += rowCount ?? 0;
        }
        return deleted;
      }),
    );
  }

  async listUsers(query: UserQuery): Promise<Page<UserRecord, UserCursor>> {
    return this.#guard(async () => {
      const { sql, params } = listUsersStatement(query);
      return usersPage((await this.#pool.query<Row>(sql, params)).rows, query);
    });
  }

  async updateUser(id: string, change: UserChange, now: number): Promise<UserChangeOutcome> {
    return this.#guard(() =>
      this.#transaction(async (db): Promise<UserChangeOutcome> => {
        const { rows } = await db.query<Row>(`${USER_AND_ADMINS_SQL} FOR UPDATE`, [id]);
        const plan = planUserChange(id, rows, change, now);
        if (plan.kind !== 'apply') return plan;
        const user = (await one(db, UPDATE_USER_SQL, [plan.role, plan.disabledAt, now, id], userFromRow))!;
        const revoked = plan.revokeReason
          ? await revokeWhere(db, 'user_id = $3', [id], plan.revokeReason, now)
          : [];
        return { kind: 'updated', before: plan.before, user, revoked };
      }),
    );
  }

  /**
   * Compare-and-set of the password hash alone, for a deployment whose sessions live in Redis
   * (`RedisSessionStore` revokes them there): sets `newHash` only while the stored hash is still
   * `currentHash` and the user is enabled. `false` when it changed nothing.
   */
  async replacePasswordHash(
    userId: string,
    currentHash: string,
    newHash: string,
    now: number,
  ): Promise<boolean> {
    return this.#guard(async () => {
      const updated = await this.#pool.query(
        `UPDATE users SET password_hash = $1, updated_at = $2
         WHERE id = $3 AND password_hash = $4 AND disabled_at IS NULL`,
        [newHash, now, userId, currentHash],
      );
      return updated.rowCount === 1;
    });
  }

  async #one<T>(sql: string, params: unknown[], map: (row: Row) => T): Promise<T | null> {
    return this.#guard(() => one(this.#pool, sql, params, map));
  }

  async #oneRow(sql: string, params: unknown[]): Promise<Row | null> {
    return this.#guard(() => one(this.#pool, sql, params, (row) => row));
  }

  /**
   * Runs `work` in one transaction on one pooled connection. A connection that failed is destroyed
   * rather than returned to the pool, whose next caller would otherwise inherit it.
   */
  async #transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    // A checked-out connection has no pool listener: one that dies between two statements would
    // otherwise crash the process with an unhandled 'error' event.
    const onError = (): void => {};
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: unknown) => toError(rollbackError),
      );
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /** Store failures other than our own typed errors become 503 `unavailable` (SPEC §5). */
  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof EmailTakenError) throw error;
      // SQLSTATE class 22 (data exception) is a value PostgreSQL will not hold — a NUL byte in a
      // text parameter, say. That is the request's fault, not an outage: 400, not 503.
      if (isDataException(error))
        throw new InvalidRequestError('A value in the request cannot be stored', { cause: error });
      throw new UnavailableError(RETRY_AFTER_SECONDS, { cause: error });
    }
  }
}

function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}
