import type { OutboxStore } from './outbox/outbox-store.ts';
import type { PurgeCounts, PurgeCutoffs } from './purge.ts';
import type { RecoveryStore } from './recovery/recovery-store.ts';

/**
 * The one storage interface every backend implements (SQLite, PostgreSQL, and PostgreSQL or SQLite
 * with Redis holding the sessions).
 * Times are Unix epoch milliseconds. Methods that change more than one row are atomic: either all
 * of it is committed before the promise resolves, or none of it is.
 */
export interface Store extends AdminStore {
  /**
   * Concerns added since issue 13 live in parts of their own (`recovery/`, `outbox/`): small
   * interfaces with one SQL implementation each, shared by both SQL stores through `sql-plan.ts`.
   */
  readonly recovery: RecoveryStore;
  readonly outbox: OutboxStore;

  /** Resolves when the store answers; rejects with `UnavailableError` otherwise (`/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;

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

  /**
   * Creates a session with its first refresh token (`null` when "keep me logged in" is off), only
   * while the user's password hash and role are still the ones login read and the user is enabled,
   * so a login racing a password change, a disable or a role change can never leave a session (and
   * an access token with the old role) behind. `false` when it was not.
   */
  createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    verified: VerifiedLogin,
  ): Promise<boolean>;
  getSession(id: string): Promise<SessionRecord | null>;
  listActiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  findSessionByRefreshToken(hash: string): Promise<SessionRecord | null>;
  /** Reads the presented token and its session, asks `decide`, applies the answer: one atomic step. */
  rotateRefreshToken(request: RotationRequest): Promise<RotationOutcome>;
  /** Revokes one session; `null` when it does not exist or was already revoked. */
  revokeSession(id: string, reason: RevokeReason, now: number): Promise<RevokedSession | null>;
  revokeUserSessions(userId: string, reason: RevokeReason, now: number): Promise<RevokedSession[]>;
  /**
   * Revocations committed after `cursor` (0: from the start) whose access tokens may still be
   * unexpired (`accessExpiresAt > after`), with the cursor to ask from next time.
   */
  listRevocations(after: number, cursor: number): Promise<{ cursor: number; revoked: RevokedSession[] }>;
  /**
   * One bounded batch of the cleanup job: deletes at most `limit` rows of each kind that nothing
   * can use any more (`purge.ts`): dead sessions with their refresh tokens, expired revocation-log
   * entries and rate-limit windows, old audit entries. `null` when another instance holds the
   * cleanup lock (PostgreSQL), so N instances never sweep the same rows at once.
   */
  purgeExpired(cutoffs: PurgeCutoffs, limit: number): Promise<PurgeCounts | null>;
  /**
   * Calls `listener` with each batch of revocations committed by any instance sharing the store,
   * as soon as it is committed (Redis pub/sub). Best effort: a batch sent while the subscription
   * is down is not repeated, so `listRevocations` polling stays the source of truth. Absent where
   * polling is the only way. Returns the function that unsubscribes.
   */
  onRevoked?(listener: (revoked: RevokedSession[]) => void): () => void;

  listKeys(): Promise<KeyRecord[]>;
  /** Inserts a key and sets the retirement time of the keys it replaces, atomically. */
  addKey(key: KeyRecord, retire: ReadonlyArray<{ kid: string; retiresAt: number }>): Promise<void>;

  /** Counts one event in a fixed window that starts at the first event (rate limits). */
  hitCounter(key: string, windowMs: number, now: number): Promise<Counter>;
  peekCounter(key: string, now: number): Promise<Counter | null>;
  clearCounter(key: string): Promise<void>;
}

/**
 * Administration (the admin API and the CLI): users by page, role and status changes, and the
 * audit log. Pages are newest first and hold at most `MAX_PAGE_SIZE` items; `next` is the cursor
 * of the following page, `null` on the last one.
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
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries newest first, optionally only those about one subject. */
  listAudit(query: AuditQuery): Promise<Page<AuditRecord, number>>;
}

/** The most items a page may hold, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100;

export interface Page<T, C> {
  items: T[];
  next: C | null;
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

/** A security event, as recorded: never a password, token, hash or key in `detail`. */
export interface AuditEntry {
  occurredAt: number;
  /** Who did it: a user id, `cli`, `system`, or `null` when unknown (a failed login). */
  actor: string | null;
  action: AuditAction;
  /** The user it was done to, if any. */
  subject: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: AuditDetail;
}

export interface AuditRecord extends AuditEntry {
  /** Increasing with each append (the page cursor). */
  id: number;
}

export type AuditDetail = Record<string, string | number | boolean | null>;

export type AuditAction =
  | 'user_created'
  | 'login_succeeded'
  | 'login_failed'
  | 'refresh_reuse_detected'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'sessions_revoked'
  | 'password_changed'
  | 'password_reset_requested'
  | 'password_reset'
  | 'email_verified'
  | 'email_verification_sent'
  | 'email_change_requested'
  | 'email_changed'
  | 'sign_in_code_requested'
  | 'role_changed'
  | 'user_disabled'
  | 'user_enabled'
  | 'key_rotated';

export interface AuditQuery {
  subject?: string | undefined;
  limit: number;
  /** Entries with a smaller id than this. */
  after?: number | null | undefined;
}

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

/** What a login read of the user and mints its token from: `createSession` re-checks both. */
export type VerifiedLogin = Pick<UserRecord, 'passwordHash' | 'role'>;

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

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  /** Absolute end, fixed at login and never extended. */
  expiresAt: number;
  /** End if unused: the current refresh token's expiry (capped by `expiresAt`). */
  idleExpiresAt: number;
  /** `exp` of the latest access token issued in this session (ms). */
  accessExpiresAt: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
  userAgent: string | null;
  ip: string | null;
}

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'session_deleted'
  | 'password_changed'
  | 'reuse_detected'
  | 'early_refresh'
  | 'user_disabled'
  | 'role_changed'
  | 'admin_revoked';

export interface RefreshTokenRecord {
  /** SHA-256 of the token, base64url. The token itself is never stored. */
  hash: string;
  sessionId: string;
  parentHash: string | null;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
  /** Hash of the token this one was rotated into. */
  successorHash: string | null;
  /** The successor token, sealed with a key only the holder of this token can derive (grace). */
  successorSealed: string | null;
}

/** What the rotation policy sees: the presented token, its session and its successor, if any. */
export interface RotationState {
  token: RefreshTokenRecord;
  session: SessionRecord;
  successor: RefreshTokenRecord | null;
}

export type RotationDecision =
  | { kind: 'rotate'; successorExpiresAt: number }
  | { kind: 'grace' }
  | { kind: 'reuse'; reason: 'reuse_detected' | 'early_refresh' }
  | { kind: 'reject'; code: 'invalid_grant' | 'session_expired'; reason: string };

export interface RotationRequest {
  presentedHash: string;
  now: number;
  /** The successor to store if the decision is `rotate`. */
  successor: { hash: string; sealedForPresented: string };
  /** `exp` (ms) of the access token that will be issued on success. */
  accessExpiresAt: number;
  decide(state: RotationState | null): RotationDecision;
}

export type RotationOutcome =
  | { kind: 'rotated'; session: SessionRecord; token: RefreshTokenRecord }
  | { kind: 'grace'; session: SessionRecord; current: RefreshTokenRecord; sealedCurrent: string }
  | { kind: 'reused'; revoked: RevokedSession }
  | { kind: 'rejected'; code: 'invalid_grant' | 'session_expired'; reason: string };

export interface RevokedSession {
  sessionId: string;
  userId: string;
  revokedAt: number;
  accessExpiresAt: number;
}

export interface KeyRecord {
  kid: string;
  alg: string;
  /** Private (or secret) key as a JWK JSON string; never leaves the server. */
  privateJwk: string;
  /** Public JWK JSON; `null` for symmetric keys, which are never published. */
  publicJwk: string | null;
  createdAt: number;
  /** Signs from this time on; published before it (RFC 8725 §3.1 key rotation hygiene). */
  activatesAt: number;
  /** Unpublished from this time on: after the last token it signed has expired. */
  retiresAt: number | null;
}

export interface Counter {
  count: number;
  resetAt: number;
}
