import { enqueueMail } from '../outbox/sql-outbox-store.ts';
import type { OutboxMessage } from '../outbox/outbox-store.ts';
import { revokedFromRow, text, textOrNull, userFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { PlanRunner, Query, SqlPlan } from '../sql-plan.ts';
import type { UserRecord } from '../store.ts';
import {
  bindingOf,
  codeMatches,
  MAX_CODE_ATTEMPTS,
  SUPERSEDING,
  type EmailChangeOutcome,
  type EmailVerificationOutcome,
  type LoginGrantOutcome,
  type OneTimePurpose,
  type OneTimeTokenRecord,
  type PasswordReset,
  type PasswordResetOutcome,
  type RecoveryStore,
  type TokenTry,
} from './recovery-store.ts';

/** Account recovery in either SQL store, as plans (`sql-plan.ts`). */
export class SqlRecoveryStore implements RecoveryStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  issueToken(token: OneTimeTokenRecord, ...mails: OutboxMessage[]): Promise<void> {
    return this.#sql.runPlan(() => issuePlan(token, mails));
  }

  tryToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<TokenTry | null> {
    return this.#sql.runPlan(function* () {
      const owner = yield* lockTokenUser(tokenHash, purpose);
      if (owner === null) return null;
      // Counted before any code is compared: the first MAX_CODE_ATTEMPTS tries are let through
      // (a right one among them is then spent by `spendToken`); every later one finds nothing.
      const [tried] = yield {
        sql: `UPDATE one_time_tokens SET attempts = attempts + 1
              WHERE hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4
              RETURNING binding, payload`,
        params: [tokenHash, purpose, now, MAX_CODE_ATTEMPTS],
      };
      return grantOf(owner, purpose, tried);
    });
  }

  spendToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<boolean> {
    return this.#sql.runPlan(function* () {
      return (yield* spend(tokenHash, purpose, now)) !== null;
    });
  }

  changeEmail(tokenHash: string, now: number): Promise<EmailChangeOutcome> {
    return this.#sql.runPlan(() => changeEmailPlan(tokenHash, now));
  }

  spendLoginCode(attempt: { email: string; code: string; now: number }): Promise<LoginGrantOutcome> {
    return this.#sql.runPlan(() => loginCodePlan(attempt));
  }

  spendLoginLink(tokenHash: string, now: number): Promise<LoginGrantOutcome> {
    return this.#sql.runPlan(function* () {
      const spent = yield* spend(tokenHash, 'email_login', now);
      return spent ? yield* granted(spent.user.id, spent.payload, now) : { kind: 'invalid' as const };
    });
  }

  resetPassword(reset: PasswordReset): Promise<PasswordResetOutcome> {
    return this.#sql.runPlan(() => resetPlan(reset));
  }

  async peekToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<UserRecord | null> {
    // A read: no transaction (nor, on SQLite, a wait for the group commit's fsync).
    const [row] = await this.#sql.runStatement(
      {
        sql: `SELECT u.*, t.binding AS token_binding FROM one_time_tokens t JOIN users u ON u.id = t.user_id
              WHERE t.hash = $1 AND t.purpose = $2 AND t.consumed_at IS NULL AND t.expires_at > $3`,
        params: [tokenHash, purpose, now],
      },
      'read',
    );
    return liveUser(row, purpose, row?.['token_binding']);
  }

  verifyEmail(tokenHash: string, now: number): Promise<EmailVerificationOutcome> {
    return this.#sql.runPlan(() => verifyPlan(tokenHash, now));
  }

  markEmailVerified(userId: string, now: number): Promise<UserRecord | null> {
    return this.#sql.runPlan(function* () {
      const [row] = yield markVerified(userId, now);
      return row ? userFromRow(row) : null;
    });
  }
}

/** Sets the verification time once; a later proof keeps the first. */
function markVerified(userId: string, now: number): Query {
  return {
    sql: `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1 RETURNING *`,
    params: [userId, now],
  };
}

/**
 * Consumes a live token of `purpose` (the compare-and-set that makes it single use: of two spends
 * racing with one token, the second finds it consumed; PostgreSQL: it waits on the row lock, then
 * re-reads it) and returns its user, locked, if the binding still holds and the account is enabled.
 * Spent either way: a token for an old password or email, or a disabled account, is dead.
 */
function* spend(
  tokenHash: string,
  purpose: OneTimePurpose,
  now: number,
): SqlPlan<{ user: UserRecord; payload: string | null } | null> {
  const owner = yield* lockTokenUser(tokenHash, purpose);
  if (owner === null) return null;
  const [spent] = yield {
    sql: `UPDATE one_time_tokens SET consumed_at = $2
          WHERE hash = $1 AND purpose = $3 AND consumed_at IS NULL AND expires_at > $2
          RETURNING binding, payload`,
    params: [tokenHash, now, purpose],
  };
  return grantOf(owner, purpose, spent);
}

/**
 * The user row of the token's owner, locked before the token row (see `lockUser`); `undefined`
 * when the user is gone, `null` when there is no such token.
 */
function* lockTokenUser(tokenHash: string, purpose: OneTimePurpose): SqlPlan<Row | undefined | null> {
  const [found] = yield {
    sql: 'SELECT user_id FROM one_time_tokens WHERE hash = $1 AND purpose = $2',
    params: [tokenHash, purpose],
  };
  return found === undefined ? null : yield* lockUser('id', text(found['user_id']));
}

/** The owner and payload of a token row the statement matched, if its binding still holds. */
function grantOf(
  owner: Row | undefined,
  purpose: OneTimePurpose,
  token: Row | undefined,
): { user: UserRecord; payload: string | null } | null {
  if (token === undefined) return null;
  const user = liveUser(owner, purpose, token['binding']);
  return user && { user, payload: textOrNull(token['payload']) };
}

/**
 * Locks the user row first (PostgreSQL), before any of its token rows: every plan that touches
 * several tokens of one user then queues on the user row instead of deadlocking on the tokens.
 */
function* lockUser(by: 'id' | 'email', value: string): SqlPlan<Row | undefined> {
  const select = `SELECT * FROM users WHERE ${by} = $1`;
  const [row] = yield { sql: `${select} FOR UPDATE`, sqlite: select, params: [value] };
  return row;
}

/** The token's user if the account is enabled and the token's binding still holds. */
function liveUser(row: Row | undefined, purpose: OneTimePurpose, binding: unknown): UserRecord | null {
  const user = row && userFromRow(row);
  if (!user || user.disabledAt !== null || bindingOf(user, purpose) !== binding) return null;
  return user;
}

/** A spent sign-in token's outcome; an emailed code proves the address as a link does. */
function* granted(userId: string, payload: string | null, now: number): SqlPlan<LoginGrantOutcome> {
  const [row] = yield markVerified(userId, now);
  return row ? { kind: 'granted', user: userFromRow(row), payload } : { kind: 'invalid' };
}

/**
 * One statement, whatever the address: it counts the try on the user's live sign-in token (none
 * for an unknown address) and kills it at the last allowed try; the code is compared afterwards.
 * Of two right tries racing, the second finds the token consumed (PostgreSQL: after the row lock).
 */
function* loginCodePlan({
  email,
  code,
  now,
}: {
  email: string;
  code: string;
  now: number;
}): SqlPlan<LoginGrantOutcome> {
  const row = yield* lockUser('email', email);
  const tried = yield {
    sql: `UPDATE one_time_tokens
          SET attempts = attempts + 1, consumed_at = CASE WHEN attempts + 1 >= $3 THEN $2 ELSE consumed_at END
          WHERE user_id = $1 AND purpose = 'email_login' AND consumed_at IS NULL AND expires_at > $2
          RETURNING hash, binding, payload, code_hash`,
    // No account: the same statement, matching nothing.
    params: [row === undefined ? '' : text(row['id']), now, MAX_CODE_ATTEMPTS],
  };
  const token = tried.find(
    (row) => typeof row['code_hash'] === 'string' && codeMatches(text(row['hash']), row['code_hash'], code),
  );
  if (token === undefined) return { kind: 'invalid' };
  yield {
    sql: 'UPDATE one_time_tokens SET consumed_at = $2 WHERE hash = $1',
    params: [String(token['hash']), now],
  };
  const user = liveUser(row, 'email_login', token['binding']);
  if (!user) return { kind: 'invalid' };
  return yield* granted(user.id, textOrNull(token['payload']), now);
}

function* changeEmailPlan(tokenHash: string, now: number): SqlPlan<EmailChangeOutcome> {
  const spent = yield* spend(tokenHash, 'email_change', now);
  if (!spent || spent.payload === null) return { kind: 'invalid' };
  const { user, payload: newEmail } = spent;
  const [holder] = yield { sql: 'SELECT id FROM users WHERE email = $1', params: [newEmail] };
  if (holder !== undefined) return { kind: 'taken' };
  // The link reached the new address: it is verified from now on.
  const [updated] = yield {
    sql: `UPDATE users SET email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1 RETURNING *`,
    params: [user.id, newEmail, now],
  };
  yield {
    sql: 'UPDATE one_time_tokens SET consumed_at = $2 WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2',
    params: [user.id, now],
  };
  return { kind: 'changed', user: updated ? userFromRow(updated) : user, previousEmail: user.email };
}

function* verifyPlan(tokenHash: string, now: number): SqlPlan<EmailVerificationOutcome> {
  const spent = yield* spend(tokenHash, 'email_verify', now);
  const user = spent?.user;
  if (!user) return { kind: 'invalid' };
  const [row] = yield markVerified(user.id, now);
  return { kind: 'verified', user: row ? userFromRow(row) : user };
}

function* issuePlan(token: OneTimeTokenRecord, mails: OutboxMessage[]): SqlPlan<void> {
  if (SUPERSEDING.has(token.purpose)) {
    yield* lockUser('id', token.userId);
    yield {
      sql: `UPDATE one_time_tokens SET consumed_at = $3
            WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3`,
      params: [token.userId, token.purpose, token.createdAt],
    };
  }
  yield {
    sql: `INSERT INTO one_time_tokens (hash, purpose, user_id, binding, created_at, expires_at, payload, code_hash)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    params: [
      token.hash,
      token.purpose,
      token.userId,
      token.binding,
      token.createdAt,
      token.expiresAt,
      token.payload ?? null,
      token.codeHash ?? null,
    ],
  };
  for (const mail of mails) yield enqueueMail(mail);
}

function* resetPlan({ tokenHash, newPasswordHash, now }: PasswordReset): SqlPlan<PasswordResetOutcome> {
  const user = (yield* spend(tokenHash, 'password_reset', now))?.user;
  if (!user) return { kind: 'invalid' };
  // The link came through the mailbox: it proves the address as a verification link would.
  const [updated] = yield {
    sql: `UPDATE users SET password_hash = $2, updated_at = $3, email_verified_at = COALESCE(email_verified_at, $3)
          WHERE id = $1 RETURNING *`,
    params: [user.id, newPasswordHash, now],
  };
  yield {
    sql: 'UPDATE one_time_tokens SET consumed_at = $2 WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2',
    params: [user.id, now],
  };
  const revoked = (yield {
    sql: `UPDATE sessions SET revoked_at = $2, revoke_reason = 'password_changed'
          WHERE user_id = $1 AND revoked_at IS NULL
          RETURNING id, user_id, revoked_at, access_expires_at`,
    params: [user.id, now],
  }).map(revokedFromRow);
  // As every revocation on PostgreSQL: the log's sequence must commit in order, or a reader
  // paging by cursor could pass an entry that commits later with a smaller number.
  if (revoked.length > 0)
    yield { sql: 'LOCK TABLE revocations IN EXCLUSIVE MODE', sqlite: 'SELECT 1', params: [] };
  for (const entry of revoked) {
    yield {
      sql: 'INSERT INTO revocations (session_id, user_id, revoked_at, access_expires_at) VALUES ($1, $2, $3, $4)',
      params: [entry.sessionId, entry.userId, entry.revokedAt, entry.accessExpiresAt],
    };
  }
  return { kind: 'reset', user: updated ? userFromRow(updated) : user, revoked };
}
