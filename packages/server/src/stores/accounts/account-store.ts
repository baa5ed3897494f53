import type { Page } from '../page.ts';
import type { RevokedSession } from '../sessions/session-store.ts';

/**
 * Accounts: users, their passwords and (for the admin API and the CLI) their role and status. A
 * password change, a disable and a demotion also end sessions, in the same transaction on SQL or
 * through Redis's epoch protocol (`redis/redis-session-store.ts`): so this part and the sessions'
 * are implemented together by each store, though they are declared apart.
 */
export interface AccountStore {
  /** Throws `EmailTakenError` when the (canonical) email already has an account. */
  createUser(user: UserRecord): Promise<void>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  /**
   * Compare-and-set password change: sets `newHash` only while the stored hash is still
   * `currentHash` and `keepSessionId` is not revoked, and revokes every other session of the
   * user, in one transaction. Anything else changes nothing.
   */
  changePassword(change: PasswordChange, now: number): Promise<PasswordChangeOutcome>;
}

/**
 * Administration (the admin API and the CLI): users by page, role and status changes. Pages are
 * newest first and hold at most `MAX_PAGE_SIZE` items; `next` is the cursor of the following
 * page, `null` on the last one.
 */
export interface AdminStore {
  /** Users newest first (by `createdAt`, then `id`), optionally only emails starting with a prefix. */
  listUsers(query: UserQuery): Promise<Page<UserRecord, UserCursor>>;
  /**
   * Sets the role and/or the disabled state in one transaction. Disabling also revokes every live
   * session of the user and appends them to the revocation log, so every instance and verifier
   * learns of it. Changes nothing (`last_admin`) when it would leave no enabled admin.
   */
  updateUser(id: string, change: UserChange, now: number): Promise<UserChangeOutcome>;
}

/** Where a page of users starts: after the user with this creation time and id. */
export interface UserCursor {
  createdAt: number;
  id: string;
}

export interface UserQuery {
  /** Canonical (lower-case) email prefix; matched literally (`%` and `_` are not wildcards). */
  emailPrefix?: string | undefined;
  limit: number;
  after?: UserCursor | null | undefined;
}

export interface UserChange {
  role?: Role | undefined;
  disabled?: boolean | undefined;
}

export type UserChangeOutcome =
  | { kind: 'updated'; before: UserRecord; user: UserRecord; revoked: RevokedSession[] }
  | { kind: 'not_found' }
  /** The change would have left no enabled admin. */
  | { kind: 'last_admin' };

export type Role = 'user' | 'admin';

export interface PasswordChange {
  userId: string;
  currentHash: string;
  newHash: string;
  keepSessionId: string;
}

export type PasswordChangeOutcome =
  | { kind: 'changed'; revoked: RevokedSession[] }
  /** The password changed since it was verified, or the session doing it was revoked. */
  | { kind: 'stale' };

export interface UserRecord {
  id: string;
  /** Canonical form: trimmed, NFKC, lower-cased. */
  email: string;
  name: string | null;
  passwordHash: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  disabledAt: number | null;
  /** When the owner proved the address (an emailed link or code); `null` until then. */
  emailVerifiedAt: number | null;
}
