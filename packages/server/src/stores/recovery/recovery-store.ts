import { createHash, timingSafeEqual } from 'node:crypto';
import type { OutboxMessage } from '../outbox/outbox-store.ts';
import type { RevokedSession, UserRecord } from '../store.ts';

/**
 * Account recovery by email (issue 13): one-time tokens that an emailed link carries, and what
 * spending one does. A token is stored only as its SHA-256, is single use, bound to one purpose
 * and one user, and dies when that user's email or password changes (`bindingOf`).
 */
export interface RecoveryStore {
  /**
   * Stores the token and queues the mail that carries it, in one transaction: both or neither. A
   * new sign-in code or email-change link supersedes the user's earlier ones of that purpose
   * (`SUPERSEDING`): only the latest can be spent, so asking again does not multiply the guesses.
   * Each mail of `mails` (a notice to the old address, say) is queued in the same transaction.
   */
  issueToken(token: OneTimeTokenRecord, ...mails: OutboxMessage[]): Promise<void>;
  /**
   * Counts one try on a live token of `purpose` (an mfaToken: the second factor is checked by the
   * caller, who needs the factor's secret), killing it at the `MAX_CODE_ATTEMPTS`th. The token's
   * user and payload if it is live, bound and the account enabled, else `null`. Not spent: the
   * caller spends it with `spendToken` once the code proved right.
   */
  tryToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<TokenTry | null>;
  /** Spends a live token of `purpose` whose binding holds; `false` if another spend came first. */
  spendToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<boolean>;
  /**
   * Spends a live `password_reset` token and, in the same transaction, sets the new password hash,
   * kills every other outstanding token of the user and revokes every session of the user (into
   * the revocation log). Of concurrent resets with one token exactly one gets `reset`.
   */
  resetPassword(reset: PasswordReset): Promise<PasswordResetOutcome>;
  /**
   * The user a live token of `purpose` would act for (binding holds, account enabled), without
   * spending it: so a store that revokes sessions outside the SQL transaction (Redis) can revoke
   * them before the token is spent, and a failure there leaves the link usable.
   */
  peekToken(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<UserRecord | null>;
  /**
   * Spends a live `email_verify` token whose binding still holds and marks the address verified
   * (kept as it was if it already was). `invalid` for anything else.
   */
  verifyEmail(tokenHash: string, now: number): Promise<EmailVerificationOutcome>;
  /**
   * Spends a live `email_change` token whose binding still holds and, in the same transaction,
   * sets the account's address to the one the token carries (verified: the link reached it) and
   * kills every other outstanding token of the user. `taken` if another account has the address.
   */
  changeEmail(tokenHash: string, now: number): Promise<EmailChangeOutcome>;
  /**
   * Spends the live `email_login` token of the account with `email` if `code` is its code
   * (compared in constant time). Every try counts first: after `MAX_CODE_ATTEMPTS` wrong ones the
   * token is dead. The same single statement runs for an unknown address. Spending a code, like
   * any emailed proof, marks the address verified.
   */
  spendLoginCode(attempt: { email: string; code: string; now: number }): Promise<LoginGrantOutcome>;
  /** Spends a live `email_login` token by the link's token instead of its code. */
  spendLoginLink(tokenHash: string, now: number): Promise<LoginGrantOutcome>;
  /** Marks the address verified without a token (the CLI); the user, or `null` if there is none. */
  markEmailVerified(userId: string, now: number): Promise<UserRecord | null>;
}

export type OneTimePurpose = 'password_reset' | 'email_verify' | 'email_change' | 'email_login' | 'mfa_login';

/** Purposes of which a user has at most one live token: a new one kills the earlier ones. */
export const SUPERSEDING: ReadonlySet<OneTimePurpose> = new Set(['email_change', 'email_login']);

/** Wrong codes a sign-in code survives; the next try finds it dead (issue 13: "five wrong codes"). */
export const MAX_CODE_ATTEMPTS = 5;

/** A counted try of a token: whose it is, what it carries. */
export interface TokenTry {
  user: UserRecord;
  payload: string | null;
}

export type EmailChangeOutcome =
  { kind: 'changed'; user: UserRecord; previousEmail: string } | { kind: 'taken' } | { kind: 'invalid' };

export type LoginGrantOutcome =
  /** `payload` is what the sign-in request asked for (`remember`, `cookie`), as it was stored. */
  { kind: 'granted'; user: UserRecord; payload: string | null } | { kind: 'invalid' };

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
  /** What spending it applies: the new address of an email change, a sign-in's options. */
  payload?: string | null;
  /** A sign-in token's 6-digit code, as `codeHashOf(hash, code)`. */
  codeHash?: string | null;
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
  // A verification proves whose address it is, which a password change does not alter; the
  // others act for the account, and die with the password they were issued under.
  const bound = purpose === 'email_verify' ? [user.id, user.email] : [user.id, user.email, user.passwordHash];
  return createHash('sha256')
    .update(`${purpose}\n${bound.join('\n')}`)
    .digest('base64url');
}

/**
 * A sign-in code as stored: SHA-256 over the token's own hash and the code, so equal codes of two
 * tokens are stored differently. It is six digits, so the hash alone would not resist a search;
 * the bound on guesses is the attempt count and the ten-minute life (SECURITY.md REC-10).
 */
export function codeHashOf(tokenHash: string, code: string): string {
  return createHash('sha256').update(`${tokenHash}\n${code}`).digest('base64url');
}

/** Whether `code` is the code stored as `stored` for the token `tokenHash`, in constant time. */
export function codeMatches(tokenHash: string, stored: string, code: string): boolean {
  const expected = Buffer.from(stored);
  const actual = Buffer.from(codeHashOf(tokenHash, code));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
