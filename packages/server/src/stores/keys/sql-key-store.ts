import { KEY_COLUMNS, keyFromRow, keyValues } from '../rows.ts';
import type { PlanRunner } from '../sql-plan.ts';
import type { KeyRecord, KeyRetirement, KeyStore } from './key-store.ts';

/** The signing keys in either SQL store. */
export class SqlKeyStore implements KeyStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  async list(): Promise<KeyRecord[]> {
    const rows = await this.#sql.runStatement(
      { sql: 'SELECT * FROM signing_keys ORDER BY activates_at, created_at', params: [] },
      'read',
    );
    return rows.map(keyFromRow);
  }

  add(key: KeyRecord, retire: ReadonlyArray<KeyRetirement>): Promise<void> {
    return this.#sql.runPlan(function* () {
      yield {
        sql: `INSERT INTO signing_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        params: keyValues(key),
      };
      for (const { kid, retiresAt } of retire) {
        yield {
          sql: 'UPDATE signing_keys SET retires_at = $1 WHERE kid = $2 AND (retires_at IS NULL OR retires_at > $1)',
          params: [retiresAt, kid],
        };
      }
    });
  }
}
