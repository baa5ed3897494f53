import { createHash } from 'node:crypto';
import type { OutboxMessage } from '../outbox/outbox-store.ts';
import type { RevokedSession, UserRecord } from '../store.ts';

/**
 * Account recovery by email (issue 13): one-time tokens that an emailed link carries, and what
 * spending one does. A token is stored only as its SHA-256, is single use, bound to one purpose
 * and one user, and dies when that user's email or password changes (`bindingOf`).
 */
export interface RecoveryStore {
  /** Stores the token and queues the mail that carries it, in one transaction: both or neither. */
  issueToken(token: OneTimeTokenRecord, mail: OutboxMessage): Promise<void>;
  /**
   * Spends a live `password_reset` token and, in the same transaction, sets the new password hash,
   * kills every other outstanding token of the user and revokes every session of the user (into
   * the revocation log). Of concurrent resets with one token exactly one gets `reset`.
   */
  resetPassword(reset: PasswordReset): Promise<PasswordResetOutcome>;
  /**
   * Spends a live `email_verify` token whose binding still holds and marks the address verified
   * (kept as it was if it already was). `invalid` for anything else.
   */
  verifyEmail(tokenHash: string, now: number): Promise<EmailVerificationOutcome>;
  /** Marks the address verified without a token (the CLI); the user, or `null` if there is none. */
  markEmailVerified(userId: string, now: number): Promise<UserRecord | null>;
}

export type OneTimePurpose = 'password_reset' | 'email_verify';

export type EmailVerificationOutcome = { kind: 'verified'; user: UserRecord } | { kind: 'invalid' };

export interface OneTimeTokenRecord {
  /** SHA-256 of the token, base64url. The token itself is only in the mail. */
  hash: string;
  purpose: OneTimePurpose;
  userId: string;
  /** `bindingOf(user)` when issued: a token for another email or password is dead. */
  binding: string;
  createdAt: number;
  expiresAt: number;
}

export interface PasswordReset {
  tokenHash: string;
  newPasswordHash: string;
  now: number;
}

export type PasswordResetOutcome =
  | { kind: 'reset'; user: UserRecord; revoked: RevokedSession[] }
  /** Unknown, used, expired, issued before a password or email change, or the account is disabled. */
  | { kind: 'invalid' };

/**
 * What a token is bound to, hashed: for a reset, the user's current email and password hash; for
 * a verification, the email alone (changing the password does not change whose address it is). A
 * change of what a token is bound to (a reset, a password change, an email change) makes every
 * such token issued before it unusable, without those code paths having to know tokens exist.
 */
export function bindingOf(
  user: Pick<UserRecord, 'id' | 'email' | 'passwordHash'>,
  purpose: OneTimePurpose,
): string {
  const bound =
    purpose === 'password_reset' ? [user.id, user.email, user.passwordHash] : [user.id, user.email];
  return createHash('sha256')
    .update(`${purpose}\n${bound.join('\n')}`)
    .digest('base64url');
}
