/**
 * What the cleanup job deletes (issue 12 §2), as SQL both SQL stores run: `$n` placeholders are
 * PostgreSQL's and, rewritten to `?n`, SQLite's. Every statement deletes at most `$2` rows found
 * through an index (migration 5), so one batch holds the write lock for a bounded time.
 */

/** Everything strictly older than these instants (ms since the epoch) can go. */
export interface PurgeCutoffs {
  /**
   * Dead sessions (revoked, or past their idle or absolute expiry) whose last access token
   * expired before this (the clock-skew leeway already subtracted): nothing can use them. Their
   * refresh tokens go with them (ON DELETE CASCADE).
   */
  sessions: number;
  /**
   * Refresh tokens, spent or not, that expired before this. A spent token is kept until then, so
   * presenting it again is still caught as reuse (SPEC §3) for as long as it could have worked.
   */
  refreshTokens: number;
  /** Rate-limit windows that ended before this (PostgreSQL; SQLite counts in memory). */
  counters: number;
  /** Audit entries that occurred before this (`TESSERA_AUDIT_RETENTION`). */
  audit: number;
}

/** How many rows one batch deleted, by kind. */
export interface PurgeCounts {
  sessions: number;
  refreshTokens: number;
  counters: number;
  audit: number;
}

export const NOTHING_PURGED: PurgeCounts = { sessions: 0, refreshTokens: 0, counters: 0, audit: 0 };

type Kind = keyof PurgeCounts;

export const PURGE_STATEMENTS: ReadonlyArray<{ kind: Kind; sql: string }> = [
  // Expired: idle_expires_at never exceeds expires_at, so it alone tells a session is over.
  {
    kind: 'sessions',
    sql: `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
            WHERE idle_expires_at < $1 AND access_expires_at < $1 LIMIT $2)`,
  },
  {
    kind: 'sessions',
    sql: `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
            WHERE revoked_at IS NOT NULL AND access_expires_at < $1 LIMIT $2)`,
  },
  {
    kind: 'refreshTokens',
    sql: `DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM refresh_tokens
            WHERE expires_at < $1 LIMIT $2)`,
  },
  {
    kind: 'audit',
    sql: `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log
            WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)`,
  },
];

/** PostgreSQL only: the SQLite store keeps its counters in memory. */
export const PURGE_COUNTERS = {
  kind: 'counters' as const,
  sql: `DELETE FROM rate_counters WHERE key IN (SELECT key FROM rate_counters
          WHERE reset_at < $1 LIMIT $2)`,
};
