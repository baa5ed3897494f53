/**
 * Versioned schema migrations for the SQLite store. Append only: a released migration is never
 * edited, a change is a new entry. Each runs in its own transaction with its version record.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, sessions, refresh tokens, signing keys',
    sql: `
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
  },
  {
    version: 2,
    name: 'revocation log shared by every process on the file',
    sql: `
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
  },
];
