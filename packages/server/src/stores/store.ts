import type { AccountStore, AdminStore } from './accounts/account-store.ts';
import type { AuditStore } from './audit/audit-store.ts';
import type { CounterStore } from './counters/counter-store.ts';
import type { KeyStore } from './keys/key-store.ts';
import type { MfaStore } from './mfa/mfa-store.ts';
import type { OutboxStore } from './outbox/outbox-store.ts';
import type { PurgeCounts, PurgeCutoffs } from './purge.ts';
import type { RecoveryStore } from './recovery/recovery-store.ts';
import type { SessionStore } from './sessions/session-store.ts';

export type {
  AccountStore,
  AdminStore,
  PasswordChange,
  PasswordChangeOutcome,
  Role,
  UserChange,
  UserChangeOutcome,
  UserCursor,
  UserQuery,
  UserRecord,
} from './accounts/account-store.ts';
export { MAX_PAGE_SIZE, type Page } from './page.ts';
export type {
  RefreshTokenRecord,
  RevokeReason,
  RevokedSession,
  RotationDecision,
  RotationOutcome,
  RotationRequest,
  RotationState,
  SessionRecord,
  SessionStore,
  VerifiedLogin,
} from './sessions/session-store.ts';
export type { AuditAction, AuditDetail, AuditEntry, AuditQuery, AuditRecord } from './audit/audit-store.ts';
export type { Counter } from './counters/counter-store.ts';
export type { KeyRecord, KeyRetirement } from './keys/key-store.ts';

/**
 * The storage every backend implements (SQLite, PostgreSQL, and PostgreSQL or SQLite with Redis
 * holding the sessions), by concern. Times are Unix epoch milliseconds. Methods that change more
 * than one row are atomic: either all of it is committed before the promise resolves, or none is.
 *
 * Accounts and sessions stay in this interface together: their invariants span both (a password
 * change revokes sessions; a login's session is created only while the user's hash and role are
 * the ones it read), so they change in one transaction, or through Redis's epoch protocol. Every
 * other concern is a part of its own, in its own folder with its own contract suite, and its SQL
 * written once for both SQL stores (`sql-plan.ts`): a feature adds small files there.
 */
export interface Store extends AccountStore, AdminStore, SessionStore {
  /** Signing keys (SQL in every deployment). */
  readonly keys: KeyStore;
  /** Rate-limit counters: memory on SQLite, PostgreSQL, or Redis. */
  readonly counters: CounterStore;
  /** The audit log (SQL in every deployment). */
  readonly audit: AuditStore;
  /** One-time tokens of the emailed flows, and what spending one does (issue 13). */
  readonly recovery: RecoveryStore;
  /** Mail committed with its cause's write, delivered by the sender. */
  readonly outbox: OutboxStore;
  /** Second factors: TOTP and recovery codes (issue 14). */
  readonly mfa: MfaStore;

  /** Resolves when the store answers; rejects with `UnavailableError` otherwise (`/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * One bounded batch of the cleanup job: deletes at most `limit` rows of each kind that nothing
   * can use any more (`purge.ts`): dead sessions with their refresh tokens, expired revocation-log
   * entries and rate-limit windows, old audit entries. `null` when another instance holds the
   * cleanup lock (PostgreSQL), so N instances never sweep the same rows at once.
   */
  purgeExpired(cutoffs: PurgeCutoffs, limit: number): Promise<PurgeCounts | null>;
}
