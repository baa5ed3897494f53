import type { Page } from '../page.ts';

/**
 * The audit log (`audit/audit.ts` records to it; the admin API and the CLI read it). In the SQL
 * store in every deployment: it must outlive Redis, and the cleanup job keeps it for
 * `TESSERA_AUDIT_RETENTION`.
 */
export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  /** Entries newest first, optionally only those about one subject. */
  list(query: AuditQuery): Promise<Page<AuditRecord, number>>;
}

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
  | 'key_rotated'
  | 'mfa_enrolment_started'
  | 'mfa_enabled'
  | 'mfa_disabled'
  | 'mfa_reset'
  | 'mfa_recovery_codes_replaced'
  | 'mfa_failed';

export interface AuditQuery {
  subject?: string | undefined;
  limit: number;
  /** Entries with a smaller id than this. */
  after?: number | null | undefined;
}
