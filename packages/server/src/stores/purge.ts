/**
 * What the cleanup job deletes (issue 12 §2), as SQL both SQL stores run: `$n` placeholders are
 * PostgreSQL's and, rewritten to `?n`, SQLite's. Every statement deletes at most `$2` rows found
 * through an index (migrations 1, 2 and 5), so one batch holds the write lock for a bounded time.
 */

/** Everything strictly older than these instants (ms since the epoch) can go. */
export interface PurgeCutoffs {
  /**
   * Dead sessions (revoked, or past their idle or absolute expiry) whose last access token
   * expired before this (the clock-skew leeway already subtracted): nothing can use them any
   * more. Their refresh tokens, spent ones included, go first, then the sessions themselves.
   */
  sessions: number;
  /** Revocation-log entries whose access token expired before this (the leeway subtracted). */
  revocations: number;
  /** Rate-limit windows that ended before this (PostgreSQL; SQLite counts in memory). */
  counters: number;
  /** Audit entries that occurred before this (`TESSERA_AUDIT_RETENTION`). */
  audit: number;
  /** One-time tokens (reset links) that expired before this, spent or not. */
  oneTimeTokens: number;
  /** Outbox messages sent or given up before this (their content is already blank). */
  mail: number;
}

/** How many rows one batch deleted, by kind. */
export interface PurgeCounts {
  sessions: number;
  refreshTokens: number;
  revocations: number;
  counters: number;
  audit: number;
  oneTimeTokens: number;
  mail: number;
}

export const NOTHING_PURGED: PurgeCounts = {
  sessions: 0,
  refreshTokens: 0,
  revocations: 0,
  counters: 0,
  audit: 0,
  oneTimeTokens: 0,
  mail: 0,
};

export interface PurgeStatement {
  /** What it deletes; statements of one kind share that kind's limit. */
  kind: keyof PurgeCounts;
  /** Which cutoff is `$1`. */
  cutoff: keyof PurgeCutoffs;
  /** `$1` the cutoff, `$2` the room left; its rows are chosen by the one `LIMIT $2`. */
  sql: string;
  /**
   * On PostgreSQL, the alias of the rows a rotation may hold locked (its token, its session, its
   * successor, taken in that order): they are skipped instead of waited for (`postgresPurge`).
   */
  skipLocked?: 's' | 't';
}

/**
 * The two ways a session ends for good, each found through its own index: past its idle end
 * (`idle_expires_at` never exceeds `expires_at`, so it alone tells that the session is over;
 * `sessions_by_idle_expiry`), or revoked (`sessions_revoked`). Either way its last access token
 * must be past `exp` + leeway too, so the server's own checks of that token's `sid` are over.
 */
const DEAD_SESSIONS = [
  's.idle_expires_at < $1 AND s.access_expires_at < $1',
  's.revoked_at IS NOT NULL AND s.access_expires_at < $1',
];

/**
 * A spent refresh token is never deleted on its own, only with its dead session: presenting it
 * again must end the session (SPEC §3 reuse) for as long as the session could be refreshed, even
 * past the spent token's own expiry (a thief refreshing a stolen family while its owner comes back
 * with an older token). The tokens go in batches before their session, so deleting a session never
 * cascades to an unbounded number of rows (one refresh every 15 minutes for 30 days is 2,880).
 */
export const PURGE_SESSIONS: readonly PurgeStatement[] = [
  ...DEAD_SESSIONS.map((dead) => ({
    kind: 'refreshTokens' as const,
    cutoff: 'sessions' as const,
    skipLocked: 't' as const,
    sql: `DELETE FROM refresh_tokens WHERE hash IN (SELECT t.hash FROM sessions s
            JOIN refresh_tokens t ON t.session_id = s.id WHERE ${dead} LIMIT $2)`,
  })),
  ...DEAD_SESSIONS.map((dead) => ({
    kind: 'sessions' as const,
    cutoff: 'sessions' as const,
    skipLocked: 's' as const,
    sql: `DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s WHERE ${dead}
            AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) LIMIT $2)`,
  })),
  {
    kind: 'audit',
    cutoff: 'audit',
    sql: `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log
            WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)`,
  },
];

/** Account recovery (issue 13): dead links, and delivered mail once it has been kept a while. */
export const PURGE_RECOVERY: readonly PurgeStatement[] = [
  {
    kind: 'oneTimeTokens',
    cutoff: 'oneTimeTokens',
    sql: `DELETE FROM one_time_tokens WHERE hash IN (SELECT hash FROM one_time_tokens
            WHERE expires_at < $1 LIMIT $2)`,
  },
  {
    kind: 'mail',
    cutoff: 'mail',
    sql: `DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox
            WHERE state <> 'queued' AND settled_at < $1 LIMIT $2)`,
  },
];

/** PostgreSQL only: the SQLite store keeps its counters in memory. */
export const PURGE_COUNTERS: PurgeStatement = {
  kind: 'counters',
  cutoff: 'counters',
  sql: `DELETE FROM rate_counters WHERE key IN (SELECT key FROM rate_counters
          WHERE reset_at < $1 LIMIT $2)`,
};

/**
 * The revocation log, once no access token it covers can still be accepted anywhere (verifiers
 * apply the same leeway). PostgreSQL runs it in a transaction of its own: writers append under a
 * table lock, which must not wait behind a batch holding session rows.
 */
export const PURGE_REVOCATIONS: PurgeStatement = {
  kind: 'revocations',
  cutoff: 'revocations',
  sql: `DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations
          WHERE access_expires_at < $1 LIMIT $2)`,
};

/** The statements as SQLite takes them: `?n` placeholders. */
export function sqlitePurge(statements: readonly PurgeStatement[]): PurgeStatement[] {
  return statements.map((statement) => ({ ...statement, sql: statement.sql.replaceAll('$', '?') }));
}

/**
 * The statements as PostgreSQL runs them. A batch deletes a dead session's tokens in one order
 * while a rotation presenting one of them (a late replay) locks the token, the session and the
 * successor in another: waiting on each other would be a deadlock, which PostgreSQL breaks by
 * failing one of them. `SKIP LOCKED` leaves rows in use to the next batch instead, so the batch
 * never waits on a rotation.
 */
export function postgresPurge(statements: readonly PurgeStatement[]): PurgeStatement[] {
  return statements.map((statement) =>
    statement.skipLocked === undefined
      ? statement
      : {
          ...statement,
          sql: statement.sql.replace(
            'LIMIT $2',
            `LIMIT $2 FOR UPDATE OF ${statement.skipLocked} SKIP LOCKED`,
          ),
        },
  );
}

/** One statement to run: `$1` is `cutoff`, `$2` is `room`; add what it deleted to `kind`. */
export interface PurgeStep {
  kind: keyof PurgeCounts;
  sql: string;
  cutoff: number;
  room: number;
}

/**
 * `statements` in order, each given what is left of its kind's `limit` in `counts`, which the
 * caller adds each step's deleted rows to (read lazily, so a synchronous and an asynchronous store
 * share one plan).
 */
export function* purgePlan(
  statements: readonly PurgeStatement[],
  cutoffs: PurgeCutoffs,
  limit: number,
  counts: PurgeCounts,
): Generator<PurgeStep> {
  for (const { kind, cutoff, sql } of statements) {
    const room = limit - counts[kind];
    if (room > 0) yield { kind, sql, cutoff: cutoffs[cutoff], room };
  }
}

/** The rows of every kind added up (a batch that deleted nothing, or the log line). */
export function purgedRows(counts: PurgeCounts): number {
  return (
    counts.sessions +
    counts.refreshTokens +
    counts.revocations +
    counts.counters +
    counts.audit +
    counts.oneTimeTokens +
    counts.mail
  );
}
