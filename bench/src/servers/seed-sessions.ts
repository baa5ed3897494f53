import { createHash, randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';

/** Sessions per seeded user: a million sessions belong to ten thousand users. */
const SESSIONS_PER_USER = 100;
const DAY_MS = 86_400_000;

/**
 * The refresh token of seeded session `index`: Tessera's format (`tsr1_` and 43 base64url
 * characters, 256 bits) derived from the index, so the seed needs to remember none of them.
 */
export function seededRefreshToken(index: number): string {
  return `tsr1_${createHash('sha256').update(`tessera-bench-seed:${index}`).digest('base64url')}`;
}

/**
 * Grows the seeded sessions of a Tessera SQLite file (schema already migrated, the bench user
 * signed up, no server running on it) to `total`: sessions of users whose password hash is the
 * bench user's, each with one live refresh token, in one transaction of plain INSERTs — what a
 * million logins would leave behind, without a million argon2id hashes. Sessions expire in 30 days
 * (idle in 7), like a login's; their access tokens are already expired, so a refresh is a normal
 * rotation. Returns how many sessions the file now holds.
 */
export function seedSessions(file: string, from: number, total: number): number {
  const db = new DatabaseSync(file);
  try {
    // Only for the load, on a file no server has open: a rollback journal in memory, no fsync, a
    // large page cache (random keys touch every page of the indexes). Put back to WAL at the end;
    // the server opens the file with its own settings (WAL, synchronous = FULL).
    db.exec('PRAGMA journal_mode = MEMORY');
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA cache_size = -262144');
    const template = db.prepare("SELECT password_hash FROM users WHERE email = 'bench@example.test'").get();
    if (!template) throw new Error('seed: sign the bench user up first');
    const hash = String(template['password_hash']);
    const now = Date.now();
    const addUser = db.prepare(
      `INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at, disabled_at)
       VALUES (?, ?, NULL, ?, 'user', ?, ?, NULL)`,
    );
    const addSession = db.prepare(
      `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, idle_expires_at,
         access_expires_at, revoked_at, revoke_reason, user_agent, ip)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, 'tessera-bench-seed', '127.0.0.1')`,
    );
    const addToken = db.prepare(
      `INSERT INTO refresh_tokens (hash, session_id, parent_hash, created_at, expires_at, consumed_at,
         successor_hash, successor_sealed)
       VALUES (?, ?, NULL, ?, ?, NULL, NULL, NULL)`,
    );
    const userId = (user: number): string => `00000000-0000-4000-8000-${user.toString(16).padStart(12, '0')}`;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (let index = from; index < total; index += 1) {
        const user = Math.floor(index / SESSIONS_PER_USER);
        if (index % SESSIONS_PER_USER === 0) {
          addUser.run(userId(user), `seed-${user}@example.test`, hash, now, now);
        }
        const sessionId = randomUUID();
        addSession.run(sessionId, userId(user), now, now, now + 30 * DAY_MS, now + 7 * DAY_MS, now - DAY_MS);
        const tokenHash = createHash('sha256').update(seededRefreshToken(index)).digest('base64url');
        addToken.run(tokenHash, sessionId, now, now + 7 * DAY_MS);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    db.exec('PRAGMA journal_mode = WAL');
    const row = db.prepare('SELECT COUNT(*) AS n FROM sessions').get();
    return Number(row?.['n']);
  } finally {
    db.close();
  }
}
