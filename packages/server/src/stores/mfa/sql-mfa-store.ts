import type { Row } from '../rows.ts';
import type { PlanRunner, Query, SqlPlan } from '../sql-plan.ts';
import type { MfaFactors, MfaStore, TotpFactorRecord } from './mfa-store.ts';

/** Second factors in either SQL store (tables of migration 11). */
export class SqlMfaStore implements MfaStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  async startTotp(userId: string, secretSealed: string, now: number): Promise<boolean> {
    const rows = await this.#sql.runStatement(
      {
        sql: `INSERT INTO mfa_totp (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
              ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = EXCLUDED.created_at
              WHERE mfa_totp.confirmed_at IS NULL
              RETURNING user_id`,
        params: [userId, secretSealed, now],
      },
      'write',
    );
    return rows.length === 1;
  }

  confirmTotp(
    userId: string,
    secretSealed: string,
    step: number,
    hashes: readonly string[],
    now: number,
  ): Promise<boolean> {
    return this.#sql.runPlan(function* () {
      const confirmed = yield {
        sql: `UPDATE mfa_totp SET confirmed_at = $2, last_step = $3
              WHERE user_id = $1 AND confirmed_at IS NULL AND secret_sealed = $4 RETURNING user_id`,
        params: [userId, now, step, secretSealed],
      };
      if (confirmed.length !== 1) return false;
      yield* replaceCodes(userId, hashes, now);
      return true;
    });
  }

  async getFactors(userId: string): Promise<MfaFactors> {
    // On every login of every account (is there a second step?): one read, no transaction.
    // Recovery codes exist only beside a factor (`removeFactors` deletes both), so no factor row
    // means none left.
    const [totp] = await this.#sql.runStatement(
      {
        sql: `SELECT t.*, (SELECT COUNT(*) FROM mfa_recovery_codes c WHERE c.user_id = t.user_id AND c.used_at IS NULL)
                AS left_count
              FROM mfa_totp t WHERE t.user_id = $1`,
        params: [userId],
      },
      'read',
    );
    return { totp: totp ? totpFromRow(totp) : null, recoveryCodesLeft: Number(totp?.['left_count'] ?? 0) };
  }

  async useTotpStep(userId: string, step: number, now: number): Promise<boolean> {
    // One statement: two instances accepting one code race on the row, and the second finds the
    // step already recorded (PostgreSQL re-reads the row after the first commits).
    const rows = await this.#sql.runStatement(
      {
        sql: `UPDATE mfa_totp SET last_step = $2, last_used_at = $3
              WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)
              RETURNING user_id`,
        params: [userId, step, now],
      },
      'write',
    );
    return rows.length === 1;
  }

  async useRecoveryCode(userId: string, hash: string, now: number): Promise<boolean> {
    const rows = await this.#sql.runStatement(
      {
        sql: `UPDATE mfa_recovery_codes SET used_at = $3
              WHERE user_id = $1 AND hash = $2 AND used_at IS NULL RETURNING hash`,
        params: [userId, hash, now],
      },
      'write',
    );
    return rows.length === 1;
  }

  replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<boolean> {
    return this.#sql.runPlan(function* () {
      const [active] = yield {
        sql: 'SELECT user_id FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL FOR UPDATE',
        sqlite: 'SELECT user_id FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL',
        params: [userId],
      };
      if (active === undefined) return false;
      yield* replaceCodes(userId, hashes, now);
      return true;
    });
  }

  removeFactors(userId: string): Promise<boolean> {
    return this.#sql.runPlan(function* () {
      yield { sql: 'DELETE FROM mfa_recovery_codes WHERE user_id = $1', params: [userId] };
      const removed = yield {
        sql: 'DELETE FROM mfa_totp WHERE user_id = $1 RETURNING user_id',
        params: [userId],
      };
      return removed.length === 1;
    });
  }
}

function* replaceCodes(userId: string, hashes: readonly string[], now: number): SqlPlan<void> {
  yield { sql: 'DELETE FROM mfa_recovery_codes WHERE user_id = $1', params: [userId] };
  for (const hash of hashes) yield insertCode(userId, hash, now);
}

function insertCode(userId: string, hash: string, now: number): Query {
  return {
    sql: 'INSERT INTO mfa_recovery_codes (hash, user_id, created_at) VALUES ($1, $2, $3)',
    params: [hash, userId, now],
  };
}

function totpFromRow(row: Row): TotpFactorRecord {
  const number = (name: string): number | null => (row[name] === null ? null : Number(row[name]));
  return {
    secretSealed: String(row['secret_sealed']),
    createdAt: Number(row['created_at']),
    confirmedAt: number('confirmed_at'),
    lastStep: number('last_step'),
  };
}
