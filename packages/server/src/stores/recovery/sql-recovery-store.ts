import { enqueueMail } from '../outbox/sql-outbox-store.ts';
import type { OutboxMessage } from '../outbox/outbox-store.ts';
import { revokedFromRow, userFromRow } from '../rows.ts';
import type { PlanRunner, Query, SqlPlan } from '../sql-plan.ts';
import type { UserRecord } from '../store.ts';
import {
  bindingOf,
  type EmailVerificationOutcome,
  type OneTimePurpose,
  type OneTimeTokenRecord,
  type PasswordReset,
  type PasswordResetOutcome,
  type RecoveryStore,
} from './recovery-store.ts';

/** Account recovery in either SQL store, as plans (`sql-plan.ts`). */
export class SqlRecoveryStore implements RecoveryStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  issueToken(token: OneTimeTokenRecord, mail: OutboxMessage): Promise<void> {
    return this.#sql.runPlan(() => issuePlan(token, mail));
  }

  resetPassword(reset: PasswordReset): Promise<PasswordResetOutcome> {
    return this.#sql.runPlan(() => resetPlan(reset));
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
function* spend(tokenHash: string, purpose: OneTimePurpose, now: number): SqlPlan<UserRecord | null> {
  const [spent] = yield {
    sql: `UPDATE one_time_tokens SET consumed_at = $2
          WHERE hash = $1 AND purpose = $3 AND consumed_at IS NULL AND expires_at > $2
          RETURNING user_id, binding`,
    params: [tokenHash, now, purpose],
  };
  if (spent === undefined) return null;
  const userById = 'SELECT * FROM users WHERE id = $1';
  const [row] = yield { sql: `${userById} FOR UPDATE`, sqlite: userById, params: [String(spent['user_id'])] };
  const user = row && userFromRow(row);
  if (!user || user.disabledAt !== null || bindingOf(user, purpose) !== spent['binding']) return null;
  return user;
}

function* verifyPlan(tokenHash: string, now: number): SqlPlan<EmailVerificationOutcome> {
  const user = yield* spend(tokenHash, 'email_verify', now);
  if (!user) return { kind: 'invalid' };
  const [row] = yield markVerified(user.id, now);
  return { kind: 'verified', user: row ? userFromRow(row) : user };
}

function* issuePlan(token: OneTimeTokenRecord, mail: OutboxMessage): SqlPlan<void> {
  yield {
    sql: `INSERT INTO one_time_tokens (hash, purpose, user_id, binding, created_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6)`,
    params: [token.hash, token.purpose, token.userId, token.binding, token.createdAt, token.expiresAt],
  };
  yield enqueueMail(mail);
}

function* resetPlan({ tokenHash, newPasswordHash, now }: PasswordReset): SqlPlan<PasswordResetOutcome> {
  const user = yield* spend(tokenHash, 'password_reset', now);
  if (!user) return { kind: 'invalid' };
  // The link came through the mailbox: it proves the address as a verification link would.
  const [updated] = yield {
    sql: `UPDATE users SET password_hash = $2, updated_at = $3, email_verified_at = COALESCE(email_verified_at, $3)
          WHERE id = $1 RETURNING *`,
    params: [user.id, newPasswordHash, now],
  };
  yield {
    sql: 'UPDATE one_time_tokens SET consumed_at = $2 WHERE user_id = $1 AND consumed_at IS NULL',
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
