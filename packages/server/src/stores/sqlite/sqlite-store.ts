import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { EmailTakenError, UnavailableError } from '@tessera/protocol';
import { SqlAuditStore } from '../audit/sql-audit-store.ts';
import { MemoryCounterStore } from '../counters/memory-counter-store.ts';
import { SqlKeyStore } from '../keys/sql-key-store.ts';
import { GroupCommit } from './group-commit.ts';
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
  forSqlite,
  listUsersStatement,
  planUserChange,
  UPDATE_USER_SQL,
  USER_AND_ADMINS_SQL,
  usersPage,
  type Statement,
} from '../admin-sql.ts';
import { MIGRATIONS } from '../migrations.ts';
import {
  NOTHING_PURGED,
  PURGE_RECOVERY,
  PURGE_REVOCATIONS,
  PURGE_SESSIONS,
  purgedRows,
  purgePlan,
  sqlitePurge,
  type PurgeCounts,
  type PurgeCutoffs,
} from '../purge.ts';
import type { MfaStore } from '../mfa/mfa-store.ts';
import { SqlMfaStore } from '../mfa/sql-mfa-store.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import { SqlOutboxStore } from '../outbox/sql-outbox-store.ts';
import type { RecoveryStore } from '../recovery/recovery-store.ts';
import { SqlRecoveryStore } from '../recovery/sql-recovery-store.ts';
import { runPlanSync, type Query, type SqlPlan } from '../sql-plan.ts';
import type { AuditStore } from '../audit/audit-store.ts';
import type { CounterStore } from '../counters/counter-store.ts';
import type { KeyStore } from '../keys/key-store.ts';
import {
  revokedFrom,
  revokedFromRow,
  sessionFromRow,
  TOKEN_COLUMNS,
  tokenFromRow,
  tokenValues,
  USER_COLUMNS,
  userFromRow,
  userValues,
  type Row,
} from '../rows.ts';

/** Pages (4 KiB each) handed back to the file system per cleanup batch: about 4 MiB. */
const VACUUM_PAGES_PER_BATCH = 1024;
/** The cleanup's statements with SQLite's placeholders; counters live in memory here. */
const SQLITE_PURGE = sqlitePurge([...PURGE_SESSIONS, ...PURGE_RECOVERY, PURGE_REVOCATIONS]);
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

/**
 * The embedded default store: one SQLite file in WAL mode. `node:sqlite` is synchronous, so every
 * transaction runs to completion without yielding; it therefore never interleaves with another
 * request of this process, and `BEGIN IMMEDIATE` takes the file's write lock against other
 * processes. `synchronous = FULL` makes every acknowledged commit survive power loss, not only a
 * process kill. Writes go through `GroupCommit`: those requested in one event-loop turn share one
 * transaction and one fsync, each in its own savepoint, and are acknowledged after that COMMIT.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #writes: GroupCommit;
  // Compiling a statement costs more than running these ones: each SQL text is prepared once.
  readonly #statements = new Map<string, StatementSync>();

  readonly keys: KeyStore = new SqlKeyStore(this);
  readonly counters: CounterStore = new MemoryCounterStore();
  readonly audit: AuditStore = new SqlAuditStore(this);
  readonly recovery: RecoveryStore = new SqlRecoveryStore(this);
  readonly outbox: OutboxStore = new SqlOutboxStore(this);
  readonly mfa: MfaStore = new SqlMfaStore(this);

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#writes = new GroupCommit(db, toStoreError);
  }

  /** A plan shared with PostgreSQL (`sql-plan.ts`), run as one write of the group commit. */
  runPlan<T>(plan: () => SqlPlan<T>): Promise<T> {
    return this.#write(() =>
      runPlanSync(plan(), (query) =>
        this.#prepare(forSqlite(query.sqlite ?? query.sql)).all(...query.params),
      ),
    );
  }

  /** One statement: a read at once, a write in the group commit. */
  runStatement(query: Query, kind: 'read' | 'write'): Promise<Row[]> {
    const run = (): Row[] => this.#prepare(forSqlite(query.sqlite ?? query.sql)).all(...query.params);
    return kind === 'write' ? this.#write(run) : Promise.resolve(this.#guard(run));
  }

  /**
   * Opens (creating if needed) the database file and applies pending migrations. A write that
   * waits longer than `busyTimeoutMs` for another process's lock fails as `unavailable`.
   */
  static open(file: string, { busyTimeoutMs = 5000 }: { busyTimeoutMs?: number } = {}): SqliteStore {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new DatabaseSync(file, { timeout: busyTimeoutMs });
    // Set before the first table exists, this takes effect at once; a file created before it
    // needs one full VACUUM to switch, done here once (it rewrites the file: on a large database
    // the first start after upgrading takes that long). Then freed pages can be returned to the
    // file system after each cleanup batch, and the file shrinks (issue 12 §2).
    if (file !== ':memory:' && Number(db.prepare('PRAGMA auto_vacuum').get()?.['auto_vacuum']) !== 2) {
      db.exec('PRAGMA auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
    }
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    const store = new SqliteStore(db);
    store.migrate();
    return store;
  }

  /** Applies every migration newer than the file's recorded version; returns how many ran. */
  migrate(): number {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    );
    const row = this.#db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get();
    const current = typeof row?.['version'] === 'number' ? row['version'] : 0;
    let applied = 0;
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      this.#transaction(() => {
        // Another process may have applied it while we waited for the write lock.
        const done = this.#db
          .prepare('SELECT 1 FROM schema_migrations WHERE version = ?')
          .get(migration.version);
        if (done) return;
        this.#db.exec(migration.sqlite);
        this.#db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, Date.now());
      });
      applied += 1;
    }
    return applied;
  }

  async ping(): Promise<void> {
    this.#guard(() => this.#prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#writes.flush(); // writes already asked for are committed (or fail), never dropped
    this.#statements.clear();
    this.#db.close();
  }

  async createUser(user: UserRecord): Promise<void> {
    return this.#write(() => {
      try {
        this.#prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
          ...userValues(user),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new EmailTakenError({ cause: error });
        throw error;
      }
    });
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    return this.#one('SELECT * FROM users WHERE id = ?', [id], userFromRow);
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#one('SELECT * FROM users WHERE email = ?', [email], userFromRow);
  }

  async changePassword(change: PasswordChange, now: number): Promise<PasswordChangeOutcome> {
    return this.#write((): PasswordChangeOutcome => {
      const updated = this.#prepare(
        `UPDATE users SET password_hash = ?, updated_at = ?
             WHERE id = ? AND password_hash = ? AND disabled_at IS NULL
               AND EXISTS (SELECT 1 FROM sessions WHERE id = ? AND user_id = users.id AND revoked_at IS NULL)`,
      ).run(change.newHash, now, change.userId, change.currentHash, change.keepSessionId);
      if (updated.changes !== 1) return { kind: 'stale' };
      const revoked = this.#revokeWhere(
        'user_id = ? AND id != ?',
        [change.userId, change.keepSessionId],
        'password_changed',
        now,
      );
      return { kind: 'changed', revoked };
    });
  }

  async createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    verified: VerifiedLogin,
  ): Promise<boolean> {
    return this.#write(() => {
      const inserted = this.#prepare(
        `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, idle_expires_at,
               access_expires_at, revoked_at, revoke_reason, user_agent, ip, amr, auth_time)
             SELECT ?1, id, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8, ?12, ?13 FROM users
             WHERE id = ?9 AND password_hash = ?10 AND role = ?11 AND disabled_at IS NULL`,
      ).run(
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
      );
      if (inserted.changes !== 1) return false;
      if (token) this.#insertToken(token);
      return true;
    });
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.#one('SELECT * FROM sessions WHERE id = ?', [id], sessionFromRow);
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#guard(() =>
      this.#prepare(
        `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND idle_expires_at > ?
           ORDER BY created_at DESC`,
      )
        .all(userId, now, now)
        .map((row) => sessionFromRow(row as Row)),
    );
  }

  async findSessionByRefreshToken(hash: string): Promise<SessionRecord | null> {
    return this.#one(
      'SELECT s.* FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?',
      [hash],
      sessionFromRow,
    );
  }

  async rotateRefreshToken(request: RotationRequest): Promise<RotationOutcome> {
    return this.#write((): RotationOutcome => {
      const { now } = request;
      const token = this.#oneSync(
        'SELECT * FROM refresh_tokens WHERE hash = ?',
        [request.presentedHash],
        tokenFromRow,
      );
      const session =
        token && this.#oneSync('SELECT * FROM sessions WHERE id = ?', [token.sessionId], sessionFromRow);
      const successor =
        token?.successorHash != null
          ? this.#oneSync('SELECT * FROM refresh_tokens WHERE hash = ?', [token.successorHash], tokenFromRow)
          : null;
      const decision = request.decide(token && session ? { token, session, successor } : null);

      switch (decision.kind) {
        case 'reject':
          return { kind: 'rejected', code: decision.code, reason: decision.reason };
        case 'reuse': {
          const [revoked] = this.#revokeWhere('id = ?', [token!.sessionId], decision.reason, now);
          return {
            kind: 'reused',
            revoked: revoked ?? revokedFrom(session!),
          };
        }
        case 'grace': {
          return {
            kind: 'grace',
            session: this.#touchSession(session!.id, now, request.accessExpiresAt, null),
            current: successor!,
            sealedCurrent: token!.successorSealed!,
          };
        }
        case 'rotate': {
          const consumed = this.#prepare(
            `UPDATE refresh_tokens SET consumed_at = ?, successor_hash = ?, successor_sealed = ?
                 WHERE hash = ? AND consumed_at IS NULL`,
          ).run(now, request.successor.hash, request.successor.sealedForPresented, request.presentedHash);
          // Compare-and-set: the policy saw an unconsumed token inside this same transaction, so a
          // miss here means the invariant broke; refuse rather than mint a second successor.
          if (consumed.changes !== 1) throw new Error('refresh rotation lost its compare-and-set');
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
          this.#insertToken(next);
          return {
            kind: 'rotated',
            session: this.#touchSession(
              session!.id,
              now,
              request.accessExpiresAt,
              decision.successorExpiresAt,
            ),
            token: next,
          };
        }
      }
    });
  }

  async revokeSession(id: string, reason: RevokeReason, now: number): Promise<RevokedSession | null> {
    return this.#write(() => this.#revokeWhere('id = ?', [id], reason, now)[0] ?? null);
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, now: number): Promise<RevokedSession[]> {
    return this.#write(() => this.#revokeWhere('user_id = ?', [userId], reason, now));
  }

  async listRevocations(
    after: number,
    cursor: number,
  ): Promise<{ cursor: number; revoked: RevokedSession[] }> {
    return this.#guard(() => {
      const rows = this.#prepare(
        `SELECT seq, session_id AS id, user_id, revoked_at, access_expires_at FROM revocations
           WHERE seq > ? ORDER BY seq LIMIT 10000`,
      ).all(cursor) as Row[];
      const last = rows.at(-1);
      return {
        cursor: last ? Number(last['seq']) : cursor,
        revoked: rows.filter((row) => Number(row['access_expires_at']) > after).map(revokedFromRow),
      };
    });
  }

  async purgeExpired(cutoffs: PurgeCutoffs, limit: number): Promise<PurgeCounts> {
    return this.#write(() => {
      const deleted = { ...NOTHING_PURGED };
      for (const step of purgePlan(SQLITE_PURGE, cutoffs, limit, deleted))
        deleted[step.kind] += Number(this.#prepare(step.sql).run(step.cutoff, step.room).changes);
      // auto_vacuum = INCREMENTAL (see `open`): hand the pages the batch freed back to the file
      // system, a bounded number at a time, in the same transaction: one fsync for both, shared
      // with the requests' writes of this turn (its own COMMIT was a second fsync per batch).
      if (purgedRows(deleted) > 0) this.#db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_BATCH})`);
      return deleted;
    });
  }

  async listUsers(query: UserQuery): Promise<Page<UserRecord, UserCursor>> {
    return this.#guard(() => usersPage(this.#all(listUsersStatement(query)), query));
  }

  async updateUser(id: string, change: UserChange, now: number): Promise<UserChangeOutcome> {
    return this.#write((): UserChangeOutcome => {
      const rows = this.#prepare(forSqlite(USER_AND_ADMINS_SQL)).all(id);
      const plan = planUserChange(id, rows, change, now);
      if (plan.kind !== 'apply') return plan;
      const user = this.#oneSync(
        forSqlite(UPDATE_USER_SQL),
        [plan.role, plan.disabledAt, now, id],
        userFromRow,
      )!;
      const revoked = plan.revokeReason ? this.#revokeWhere('user_id = ?', [id], plan.revokeReason, now) : [];
      return { kind: 'updated', before: plan.before, user, revoked };
    });
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
    return this.#write(
      () =>
        this.#prepare(
          `UPDATE users SET password_hash = ?, updated_at = ?
           WHERE id = ? AND password_hash = ? AND disabled_at IS NULL`,
        ).run(newHash, now, userId, currentHash).changes === 1,
    );
  }

  /** Runs `work` in the next group commit (see `GroupCommit`); resolves once it is durable. */
  #write<T>(work: () => T): Promise<T> {
    return this.#writes.run(work);
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #all(statement: Statement): Row[] {
    return this.#prepare(forSqlite(statement.sql)).all(...statement.params);
  }

  #insertToken(token: RefreshTokenRecord): void {
    this.#prepare(`INSERT INTO refresh_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
      ...tokenValues(token),
    );
  }

  /** Records a use of the session (and, when given, its new idle end); returns it as it now is. */
  #touchSession(
    id: string,
    now: number,
    accessExpiresAt: number,
    idleExpiresAt: number | null,
  ): SessionRecord {
    return this.#oneSync(
      `UPDATE sessions SET last_used_at = ?, access_expires_at = MAX(access_expires_at, ?),
         idle_expires_at = COALESCE(?, idle_expires_at)
       WHERE id = ? RETURNING *`,
      [now, accessExpiresAt, idleExpiresAt, id],
      sessionFromRow,
    )!;
  }

  /** Revokes the matching live sessions and appends them to the revocation log (same transaction). */
  #revokeWhere(where: string, params: SQLInputValue[], reason: RevokeReason, now: number): RevokedSession[] {
    const revoked = this.#prepare(
      `UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE revoked_at IS NULL AND ${where}
         RETURNING id, user_id, revoked_at, access_expires_at`,
    )
      .all(now, reason, ...params)
      .map((row) => revokedFromRow(row as Row));
    const log = this.#prepare(
      'INSERT INTO revocations (session_id, user_id, revoked_at, access_expires_at) VALUES (?, ?, ?, ?)',
    );
    for (const entry of revoked)
      log.run(entry.sessionId, entry.userId, entry.revokedAt, entry.accessExpiresAt);
    return revoked;
  }

  #one<T>(sql: string, params: SQLInputValue[], map: (row: Row) => T): Promise<T | null> {
    return Promise.resolve(this.#guard(() => this.#oneSync(sql, params, map)));
  }

  #oneSync<T>(sql: string, params: SQLInputValue[], map: (row: Row) => T): T | null {
    const row = this.#prepare(sql).get(...params);
    return row ? map(row) : null;
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Store failures other than our own typed errors become 503 `unavailable` (SPEC §5). */
  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** Store failures other than our own typed errors become 503 `unavailable` (SPEC §5). */
function toStoreError(error: unknown): unknown {
  return error instanceof EmailTakenError ? error : new UnavailableError(5, { cause: error });
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  return code === SQLITE_CONSTRAINT_UNIQUE || code === SQLITE_CONSTRAINT_PRIMARYKEY;
}
