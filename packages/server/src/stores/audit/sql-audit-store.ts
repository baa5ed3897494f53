import { pageSize, toPage } from '../admin-sql.ts';
import { AUDIT_COLUMNS, auditFromRow, auditValues, type Value } from '../rows.ts';
import type { PlanRunner, Query } from '../sql-plan.ts';
import type { Page } from '../page.ts';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore } from './audit-store.ts';

/** The audit log in either SQL store: one statement per append, joining SQLite's group commit. */
export class SqlAuditStore implements AuditStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.#sql.runStatement(
      {
        sql: `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        params: auditValues(entry),
      },
      'write',
    );
  }

  async list(query: AuditQuery): Promise<Page<AuditRecord, number>> {
    const rows = await this.#sql.runStatement(listAuditQuery(query), 'read');
    return toPage(rows.map(auditFromRow), query.limit, (entry) => entry.id);
  }
}

function listAuditQuery(query: AuditQuery): Query {
  const params: Value[] = [];
  const where: string[] = [];
  if (query.subject !== undefined) {
    params.push(query.subject);
    where.push(`subject = $${params.length}`);
  }
  if (query.after !== undefined && query.after !== null) {
    params.push(query.after);
    where.push(`id < $${params.length}`);
  }
  params.push(pageSize(query.limit) + 1);
  return {
    sql: `SELECT * FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT $${params.length}`,
    params,
  };
}
