import type pg from 'pg';
import { revokedFromRow, sessionFromRow, TOKEN_COLUMNS, tokenValues, type Row } from '../rows.ts';
import type { RefreshTokenRecord, RevokeReason, RevokedSession, SessionRecord } from '../store.ts';

/**
 * The statements of the PostgreSQL store that run inside its transactions, on whichever connection
 * the caller holds.
 */

/** Anything that runs a statement: the pool (auto-commit) or a client inside a transaction. */
export type Db = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** `pg_advisory_xact_lock(classid, objid)` class of Tessera's migration lock ("tess" in ASCII). */
const MIGRATION_LOCK_CLASS = 0x74657373;

/** The first row of a statement's result, mapped; `null` when there is none. */
export async function one<T>(
  db: Db,
  sql: string,
  params: unknown[],
  map: (row: Row) => T,
): Promise<T | null> {
  const { rows } = await db.query<Row>(sql, params);
  const row = rows[0];
  return row ? map(row) : null;
}

/** The class of the cleanup job's lock ("tsgc"): one instance sweeps a schema at a time. */
const CLEANUP_LOCK_CLASS = 0x74736763;

/** Takes the current schema's cleanup lock until the transaction ends, unless another holds it. */
export async function tryLockCleanup(db: Db): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_xact_lock($1, hashtext(coalesce(current_schema(), ''))) AS locked",
    [CLEANUP_LOCK_CLASS],
  );
  return rows[0]?.locked === true;
}

/** Serialises migrations of the current schema until the transaction ends (other schemas are free). */
export async function lockMigrations(db: Db): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))", [
    MIGRATION_LOCK_CLASS,
  ]);
}

/** Inserts one refresh token. */
export async function insertToken(db: Db, token: RefreshTokenRecord): Promise<void> {
  await db.query(
    `INSERT INTO refresh_tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    tokenValues(token),
  );
}

/** Records a use of the session; `idleExpiresAt` is set on rotation (the successor's expiry). */
export async function touchSession(
  db: Db,
  id: string,
  now: number,
  accessExpiresAt: number,
  idleExpiresAt: number | null,
): Promise<SessionRecord> {
  const session = await one(
    db,
    `UPDATE sessions SET last_used_at = $1, access_expires_at = GREATEST(access_expires_at, $2),
       idle_expires_at = COALESCE($3, idle_expires_at)
     WHERE id = $4 RETURNING *`,
    [now, accessExpiresAt, idleExpiresAt, id],
    sessionFromRow,
  );
  if (!session) throw new Error(`session ${id} vanished while locked`);
  return session;
}

/**
 * Revokes the matching live sessions and appends them to the revocation log, in the caller's
 * transaction. `where` refers to its parameters from `$3` on. The log is written under a table lock
 * held to commit, so log sequence numbers are handed out in commit order: a reader that has seen
 * `seq` n can never later find a smaller one appear behind its cursor.
 */
export async function revokeWhere(
  db: Db,
  where: string,
  params: unknown[],
  reason: RevokeReason,
  now: number,
): Promise<RevokedSession[]> {
  const { rows } = await db.query<Row>(
    `UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE revoked_at IS NULL AND ${where}
     RETURNING id, user_id, revoked_at, access_expires_at`,
    [now, reason, ...params],
  );
  const revoked = rows.map(revokedFromRow);
  if (revoked.length === 0) return revoked;
  await db.query('LOCK TABLE revocations IN EXCLUSIVE MODE');
  await db.query(
    `INSERT INTO revocations (session_id, user_id, revoked_at, access_expires_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`,
    [
      revoked.map((entry) => entry.sessionId),
      revoked.map((entry) => entry.userId),
      revoked.map((entry) => entry.revokedAt),
      revoked.map((entry) => entry.accessExpiresAt),
    ],
  );
  return revoked;
}

/** A rate-limit counter from its `count, reset_at` row. */
/** What was thrown, as an `Error` (for `release(error)`, which destroys the connection). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
