import { userFromRow, type Row, type Value } from './rows.ts';
import {
  MAX_PAGE_SIZE,
  type Page,
  type RevokeReason,
  type Role,
  type UserChange,
  type UserCursor,
  type UserQuery,
  type UserRecord,
} from './store.ts';

/**
 * The administration statements and decisions both SQL stores share. Statements are written with
 * PostgreSQL's `$n` parameters; `forSqlite` turns them into SQLite's `?n`, which bind the same.
 */

export interface Statement {
  sql: string;
  params: Value[];
}

export function forSqlite(sql: string): string {
  return sql.replaceAll(/\$(\d+)/g, '?$1');
}

/** 1 to `MAX_PAGE_SIZE`, whatever was asked; one more row is read to know whether a page follows. */
export function pageSize(limit: number): number {
  return Math.min(Math.max(1, Math.floor(limit) || 1), MAX_PAGE_SIZE);
}

/** `%`, `_` and the escape character itself match only themselves in a `LIKE … ESCAPE '\'`. */
function likePrefix(prefix: string): string {
  return `${prefix.replaceAll(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

export function listUsersStatement(query: UserQuery): Statement {
  const params: Value[] = [];
  const where: string[] = [];
  if (query.emailPrefix !== undefined && query.emailPrefix !== '') {
    params.push(likePrefix(query.emailPrefix));
    where.push(`email LIKE $${params.length} ESCAPE '\\'`);
  }
  if (query.after) {
    params.push(query.after.createdAt, query.after.id);
    const [time, id] = [params.length - 1, params.length];
    where.push(`(created_at < $${time} OR (created_at = $${time} AND id < $${id}))`);
  }
  params.push(pageSize(query.limit) + 1);
  return {
    sql: `SELECT * FROM users ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  };
}

export function usersPage(rows: Row[], query: UserQuery): Page<UserRecord, UserCursor> {
  return toPage(rows.map(userFromRow), query.limit, (user) => ({ createdAt: user.createdAt, id: user.id }));
}

export function toPage<T, C>(items: T[], limit: number, cursorOf: (item: T) => C): Page<T, C> {
  const size = pageSize(limit);
  if (items.length <= size) return { items, next: null };
  const page = items.slice(0, size);
  return { items: page, next: cursorOf(page[size - 1]!) };
}

/**
 * The user to change and every enabled admin, in id order. PostgreSQL appends `FOR UPDATE`: the
 * rows are locked in one order by every change, so two admins demoting each other concurrently
 * wait on each other (no deadlock) and the second sees the first one's result.
 */
export const USER_AND_ADMINS_SQL = `SELECT * FROM users WHERE id = $1 OR (role = 'admin' AND disabled_at IS NULL)
  ORDER BY id`;

export const UPDATE_USER_SQL = `UPDATE users SET role = $1, disabled_at = $2, updated_at = $3 WHERE id = $4
  RETURNING *`;

export type UserChangePlan =
  | { kind: 'not_found' }
  | { kind: 'last_admin' }
  | {
      kind: 'apply';
      before: UserRecord;
      role: Role;
      disabledAt: number | null;
      revokeReason: RevokeReason | null;
    };

/**
 * What a role or status change does, from the rows `USER_AND_ADMINS_SQL` read: the new role and
 * disabled time (a user disabled twice keeps the first time), why to revoke the user's sessions
 * (disabled, or no longer an admin) if at all, and the one rule: there is always an enabled admin left once there was one.
 */
export function planUserChange(id: string, rows: Row[], change: UserChange, now: number): UserChangePlan {
  const users = rows.map(userFromRow);
  const before = users.find((user) => user.id === id);
  if (!before) return { kind: 'not_found' };
  const role = change.role ?? before.role;
  const disabledAt =
    change.disabled === undefined ? before.disabledAt : change.disabled ? (before.disabledAt ?? now) : null;
  const wasActiveAdmin = before.role === 'admin' && before.disabledAt === null;
  const staysActiveAdmin = role === 'admin' && disabledAt === null;
  const otherAdmins = users.filter(
    (user) => user.id !== id && user.role === 'admin' && user.disabledAt === null,
  );
  if (wasActiveAdmin && !staysActiveAdmin && otherAdmins.length === 0) return { kind: 'last_admin' };
  // A demoted admin's tokens still say `role: admin, scope: admin`, and resource servers trust the
  // token: end those sessions (through the revocation log, so the feed carries it) rather than
  // leave admin rights alive for an access-token lifetime.
  const revokeReason: RevokeReason | null =
    change.disabled === true
      ? 'user_disabled'
      : before.role === 'admin' && role !== 'admin'
        ? 'role_changed'
        : null;
  return { kind: 'apply', before, role, disabledAt, revokeReason };
}
