/**
 * Versioned schema migrations of both SQL stores, side by side: one entry per version, its SQLite
 * and its PostgreSQL form, so the two schemas cannot drift apart in numbering or intent. Append
 * only: a released migration is never edited, a change is a new entry. Both runners record applied
 * versions in the same `schema_migrations (version, name, applied_at)` table and apply each pending
 * migration in its own transaction with its version record, under a lock so that concurrent
 * processes on one database migrate once (SQLite: the write lock; PostgreSQL: an advisory lock).
 *
 * Times are integer milliseconds since the epoch in both (`INTEGER` / `BIGINT`).
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, sessions, refresh tokens, signing keys',
    sqlite: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        disabled_at INTEGER
      ) STRICT;

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        idle_expires_at INTEGER NOT NULL,
        access_expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        revoke_reason TEXT,
        user_agent TEXT,
        ip TEXT
      ) STRICT;
      CREATE INDEX sessions_by_user ON sessions (user_id);
      CREATE INDEX sessions_revoked ON sessions (access_expires_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        parent_hash TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        successor_hash TEXT,
        successor_sealed TEXT
      ) STRICT;
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
      -- At most one live (unconsumed) refresh token per session, whatever the code above does:
      -- two concurrent refreshes can never both leave a successor (ATTACKS RT-03).
      CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE consumed_at IS NULL;

      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        public_jwk TEXT,
        created_at INTEGER NOT NULL,
        activates_at INTEGER NOT NULL,
        retires_at INTEGER
      ) STRICT;
    `,
    postgres: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        disabled_at BIGINT
      );

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        idle_expires_at BIGINT NOT NULL,
        access_expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        revoke_reason TEXT,
        user_agent TEXT,
        ip TEXT
      );
      CREATE INDEX sessions_by_user ON sessions (user_id);
      CREATE INDEX sessions_revoked ON sessions (access_expires_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        parent_hash TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        consumed_at BIGINT,
        successor_hash TEXT,
        successor_sealed TEXT
      );
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
      -- As in SQLite: one live token per session, enforced by the database (ATTACKS RT-03).
      CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE consumed_at IS NULL;

      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        public_jwk TEXT,
        created_at BIGINT NOT NULL,
        activates_at BIGINT NOT NULL,
        retires_at BIGINT
      );
    `,
  },
  {
    version: 2,
    name: 'revocation log shared by every process on the file',
    sqlite: `
      -- Append-only: each revoked session once, in commit order. Other processes on the same file
      -- (a second server, the CLI) read it from their cursor, so a revocation anywhere is felt
      -- everywhere within a poll interval; it is also the cursor of the revocation feed.
      CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        revoked_at INTEGER NOT NULL,
        access_expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX revocations_by_expiry ON revocations (access_expires_at);
      INSERT INTO revocations (session_id, user_id, revoked_at, access_expires_at)
        SELECT id, user_id, revoked_at, access_expires_at FROM sessions
        WHERE revoked_at IS NOT NULL ORDER BY revoked_at;
    `,
    postgres: `
      -- As in SQLite. A sequence hands out numbers at insert, not at commit, so the store writes
      -- this table under a table lock held to commit: seq order is then commit order, and a reader
      -- that has seen seq n can never later find a smaller one committed (see PostgresStore).
      CREATE TABLE revocations (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        revoked_at BIGINT NOT NULL,
        access_expires_at BIGINT NOT NULL
      );
      CREATE INDEX revocations_by_expiry ON revocations (access_expires_at);
      INSERT INTO revocations (session_id, user_id, revoked_at, access_expires_at)
        SELECT id, user_id, revoked_at, access_expires_at FROM sessions
        WHERE revoked_at IS NOT NULL ORDER BY revoked_at;
    `,
  },
  {
    version: 3,
    name: 'rate-limit counters shared by every instance',
    // One SQLite file serves one machine: its counters stay in process memory, where a login
    // attempt costs no fsync (see SqliteStore). The version is recorded all the same.
    sqlite: `SELECT 1;`,
    postgres: `
      -- Fixed windows: the row is reset, not deleted, when a hit finds its window over; rows whose
      -- window ended are swept now and then (by reset_at).
      CREATE TABLE rate_counters (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        reset_at BIGINT NOT NULL
      );
      CREATE INDEX rate_counters_by_reset ON rate_counters (reset_at);
    `,
  },
  {
    version: 4,
    name: 'audit log; users by creation time for the admin list',
    sqlite: `
      -- Append-only record of security events. No foreign keys: an entry outlives its user, and
      -- the actor may be 'cli' or 'system'. detail is a JSON object without secrets.
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        occurred_at INTEGER NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        subject TEXT,
        ip TEXT,
        user_agent TEXT,
        detail TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_by_subject ON audit_log (subject, id);
      CREATE INDEX users_by_created ON users (created_at, id);
    `,
    postgres: `
      -- As in SQLite. detail stays TEXT (JSON) so that both stores read it with one mapping.
      CREATE TABLE audit_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at BIGINT NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        subject TEXT,
        ip TEXT,
        user_agent TEXT,
        detail TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_subject ON audit_log (subject, id);
      CREATE INDEX users_by_created ON users (created_at, id);
    `,
  },
  {
    version: 5,
    name: 'indexes for the cleanup job',
    // What `purge.ts` deletes by: each batch finds its rows through an index, never a table scan.
    sqlite: `
      CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
      CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
      CREATE INDEX audit_log_by_time ON audit_log (occurred_at);
    `,
    postgres: `
      CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
      CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
      CREATE INDEX audit_log_by_time ON audit_log (occurred_at);
    `,
  },
  {
    version: 6,
    name: 'refresh tokens are deleted with their session, not by expiry',
    // A spent token stays as long as its session (reuse detection, `purge.ts`), so the cleanup
    // job finds tokens through `refresh_tokens_by_session`; the expiry index only cost every
    // rotation's insert a write.
    sqlite: 'DROP INDEX refresh_tokens_by_expiry;',
    postgres: 'DROP INDEX refresh_tokens_by_expiry;',
  },
  {
    version: 7,
    name: 'one-time tokens and the mail outbox',
    sqlite: recoveryTables('INTEGER', ' STRICT'),
    postgres: recoveryTables('BIGINT', ''),
  },
  {
    version: 8,
    name: 'when each email address was verified',
    sqlite: 'ALTER TABLE users ADD COLUMN email_verified_at INTEGER;',
    postgres: 'ALTER TABLE users ADD COLUMN email_verified_at BIGINT;',
  },
  {
    version: 9,
    name: 'what a one-time token carries: a new address, a sign-in code and its tries',
    sqlite: oneTimeTokenExtras('INTEGER'),
    postgres: oneTimeTokenExtras('BIGINT'),
  },
  {
    version: 10,
    name: "when a queued message's link dies, so it is given up instead of sent",
    sqlite: 'ALTER TABLE mail_outbox ADD COLUMN expires_at INTEGER;',
    postgres: 'ALTER TABLE mail_outbox ADD COLUMN expires_at BIGINT;',
  },
  {
    version: 11,
    name: 'second factors: a TOTP factor per user, recovery codes',
    sqlite: mfaTables('INTEGER', ' STRICT'),
    postgres: mfaTables('BIGINT', ''),
  },
  {
    version: 12,
    name: "how and when a session's user signed in (amr, auth_time)",
    sqlite: 'ALTER TABLE sessions ADD COLUMN amr TEXT; ALTER TABLE sessions ADD COLUMN auth_time INTEGER;',
    postgres: 'ALTER TABLE sessions ADD COLUMN amr TEXT; ALTER TABLE sessions ADD COLUMN auth_time BIGINT;',
  },
];

/** Migration 11 (issue 14): the secret sealed, the codes hashed (`stores/mfa/mfa-store.ts`). */
function mfaTables(int: 'INTEGER' | 'BIGINT', strict: ' STRICT' | ''): string {
  return `
      CREATE TABLE mfa_totp (
        user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        secret_sealed TEXT NOT NULL,
        created_at ${int} NOT NULL,
        confirmed_at ${int},
        last_step ${int},
        last_used_at ${int}
      )${strict};
      CREATE TABLE mfa_recovery_codes (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at ${int} NOT NULL,
        used_at ${int}
      )${strict};
      CREATE INDEX mfa_recovery_codes_by_user ON mfa_recovery_codes (user_id);
    `;
}

/** Migration 9 (issue 13: email change, sign-in by emailed code). */
function oneTimeTokenExtras(int: 'INTEGER' | 'BIGINT'): string {
  return `
      ALTER TABLE one_time_tokens ADD COLUMN payload TEXT;
      ALTER TABLE one_time_tokens ADD COLUMN code_hash TEXT;
      ALTER TABLE one_time_tokens ADD COLUMN attempts ${int} NOT NULL DEFAULT 0;
    `;
}

/** Migration 7's tables, the same in both stores but for the integer type and `STRICT`. */
function recoveryTables(int: 'INTEGER' | 'BIGINT', strict: ' STRICT' | ''): string {
  return `
      -- Issue 13. A token is kept only as its SHA-256 (hash); binding ties it to the user's email
      -- and password hash when issued (recovery-store.ts), so any change of either kills it.
      CREATE TABLE one_time_tokens (
        hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        binding TEXT NOT NULL,
        created_at ${int} NOT NULL,
        expires_at ${int} NOT NULL,
        consumed_at ${int}
      )${strict};
      CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id);
      CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens (expires_at);

      -- Mail committed with the write that caused it, delivered by the sender (mail/mail-sender.ts).
      -- Subject and bodies are blanked once sent or given up: a link's token lives here only
      -- until its delivery.
      CREATE TABLE mail_outbox (
        id TEXT PRIMARY KEY,
        recipient TEXT NOT NULL,
        template TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'given_up')),
        attempts ${int} NOT NULL DEFAULT 0,
        created_at ${int} NOT NULL,
        next_attempt_at ${int} NOT NULL,
        leased_until ${int} NOT NULL DEFAULT 0,
        settled_at ${int},
        last_error TEXT
      )${strict};
      CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
      CREATE INDEX mail_outbox_by_settled ON mail_outbox (settled_at) WHERE state <> 'queued';
    `;
}
