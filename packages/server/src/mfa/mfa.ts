import {
  InvalidCodeError,
  InvalidCredentialsError,
  InvalidRequestError,
  MfaUnavailableError,
} from '@tessera/protocol';
import QRCode from 'qrcode';
import { recordAudit, type Actor } from '../audit/audit.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertPasswordSize } from '../passwords/password-policy.ts';
import { SealedValueError, type SecretBox } from '../secrets/secret-box.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import type { Store, UserRecord } from '../stores/store.ts';
import { looksLikeRecoveryCode, newRecoveryCodes, recoveryCodeHash } from './recovery-codes.ts';
import { matchTotp, newTotpSecret, totpUri } from './totp.ts';

/** What `GET /auth/mfa` shows: which factors are active, how many recovery codes are left. */
export interface MfaStatus {
  totp: 'active' | 'pending' | 'none';
  recoveryCodesLeft: number;
}

export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  secret: string;
  otpauthUri: string;
  /** The URI as a QR code: an SVG image as a `data:` URL, for an `<img src>`. */
  qrCode: string;
}

/** A second factor's proof: a code from the app (`totp`) or one of the recovery codes. */
export type FactorProof = { kind: 'totp'; step: number } | { kind: 'recovery_code' };

/**
 * Second factors of a signed-in user (issue 14): TOTP enrolment, its confirmation, removal, and
 * recovery codes; and the check of a code that the second step of a sign-in uses. The TOTP
 * secret is sealed to the user's row (`totpContext`); a code is accepted once (`MfaStore`).
 */
export class Mfa {
  readonly #store: Store;
  readonly #box: SecretBox | null;
  readonly #hasher: PasswordHasher;
  readonly #limits: RateLimits;
  readonly #issuer: string;
  readonly #sessions: Sessions;

  constructor(parts: {
    store: Store;
    box: SecretBox | null;
    hasher: PasswordHasher;
    limits: RateLimits;
    sessions: Sessions;
    /** The name an authenticator app shows for the account (the issuer's host). */
    issuer: string;
  }) {
    this.#store = parts.store;
    this.#box = parts.box;
    this.#hasher = parts.hasher;
    this.#limits = parts.limits;
    this.#issuer = parts.issuer;
    this.#sessions = parts.sessions;
  }

  async status(userId: string): Promise<MfaStatus> {
    const { totp, recoveryCodesLeft } = await this.#store.mfa.getFactors(userId);
    return {
      totp: totp === null ? 'none' : totp.confirmedAt === null ? 'pending' : 'active',
      recoveryCodesLeft: totp?.confirmedAt == null ? 0 : recoveryCodesLeft,
    };
  }

  /** Whether a sign-in of this user needs the second step. */
  async required(userId: string): Promise<boolean> {
    return (await this.#store.mfa.getFactors(userId)).totp?.confirmedAt != null;
  }

  /**
   * `POST /auth/mfa/totp`: a new pending factor (replacing a pending one), not active until
   * confirmed. Needs the password: a stolen access token alone must not put the thief's app on
   * the account (and the recovery codes in the thief's hands).
   */
  async startTotp(
    user: UserRecord,
    password: string,
    client: ClientInfo,
    now: number,
  ): Promise<TotpEnrolment> {
    const box = this.#requireBox();
    await this.#verifyPassword(user, password, now);
    const secret = newTotpSecret();
    if (!(await this.#store.mfa.startTotp(user.id, box.seal(secret, totpContext(user.id)), now)))
      throw new InvalidRequestError('A TOTP factor is already active: remove it first');
    const otpauthUri = totpUri({ secret, issuer: this.#issuer, account: user.email });
    const svg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    await this.#audit('mfa_enrolment_started', user.id, client, now);
    return { secret, otpauthUri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /**
   * `POST /auth/mfa/totp/confirm`: the first code activates the factor, and every other session of
   * the account ends (begun without the factor, it may be a thief's); the recovery codes, once.
   */
  async confirmTotp(
    user: UserRecord,
    sessionId: string,
    code: string,
    client: ClientInfo,
    now: number,
  ): Promise<string[]> {
    await this.#limits.hitPasswordChange(user.id, now);
    const { totp } = await this.#store.mfa.getFactors(user.id);
    if (totp === null || totp.confirmedAt !== null)
      throw new InvalidRequestError('There is no pending TOTP factor: start one with POST /auth/mfa/totp');
    const step = matchTotp(this.#openSecret(user.id, totp.secretSealed), code, now);
    if (step === null) throw new InvalidCodeError();
    const { codes, hashes } = newRecoveryCodes(user.id);
    // Only the secret this code was checked against: an enrolment restarted meanwhile stays pending.
    if (!(await this.#store.mfa.confirmTotp(user.id, totp.secretSealed, step, hashes, now)))
      throw new InvalidCodeError();
    await this.#limits.clearPasswordChange(user.id);
    await this.#sessions.revokeOthers(user.id, sessionId, 'mfa_enabled', now);
    await this.#audit('mfa_enabled', user.id, client, now);
    return codes;
  }

  /** `DELETE /auth/mfa/totp`: with a current code (or a recovery code) or the password. */
  async removeTotp(
    user: UserRecord,
    proof: { code: string } | { password: string },
    client: ClientInfo,
    now: number,
  ): Promise<void> {
    if ('password' in proof) {
      await this.#verifyPassword(user, proof.password, now);
    } else {
      await this.#limits.hitPasswordChange(user.id, now);
      if ((await this.check(user.id, proof.code, now)) === null) throw new InvalidCodeError();
      await this.#limits.clearPasswordChange(user.id);
    }
    if (!(await this.#store.mfa.removeFactors(user.id)))
      throw new InvalidRequestError('There is no TOTP factor to remove');
    await this.#audit('mfa_disabled', user.id, client, now);
  }

  /** `POST /auth/mfa/recovery-codes`: a new set for a current code; the old set dies. */
  async newRecoveryCodes(user: UserRecord, code: string, client: ClientInfo, now: number): Promise<string[]> {
    await this.#limits.hitPasswordChange(user.id, now);
    const proof = await this.check(user.id, code, now);
    if (proof === null) throw new InvalidCodeError();
    await this.#limits.clearPasswordChange(user.id);
    const { codes, hashes } = newRecoveryCodes(user.id);
    if (!(await this.#store.mfa.replaceRecoveryCodes(user.id, hashes, now))) throw new InvalidCodeError();
    await this.#audit('mfa_recovery_codes_replaced', user.id, client, now);
    return codes;
  }

  /**
   * Whether `code` is a current TOTP code of the user's active factor, or one of the user's unused
   * recovery codes, and if so spends it (the TOTP step, or the recovery code): `null` otherwise,
   * and for a code already used.
   */
  async check(userId: string, code: string, now: number): Promise<FactorProof | null> {
    const trimmed = code.trim();
    if (looksLikeRecoveryCode(trimmed)) {
      return (await this.#store.mfa.useRecoveryCode(userId, recoveryCodeHash(userId, trimmed), now))
        ? { kind: 'recovery_code' }
        : null;
    }
    const { totp } = await this.#store.mfa.getFactors(userId);
    if (totp === null || totp.confirmedAt === null) return null;
    const step = matchTotp(this.#openSecret(userId, totp.secretSealed), trimmed, now);
    if (step === null) return null;
    return (await this.#store.mfa.useTotpStep(userId, step, now)) ? { kind: 'totp', step } : null;
  }

  /** The password, counted by the password-change limit (a stolen session cannot guess it freely). */
  async #verifyPassword(user: UserRecord, password: string, now: number): Promise<void> {
    assertPasswordSize(password);
    await this.#limits.hitPasswordChange(user.id, now);
    if (!(await this.#hasher.verify(user.passwordHash, password))) throw new InvalidCredentialsError();
    await this.#limits.clearPasswordChange(user.id);
  }

  #requireBox(): SecretBox {
    if (this.#box === null) throw new MfaUnavailableError();
    return this.#box;
  }

  /** A secret this server's keys cannot open (the key was lost or changed) is an outage: 503. */
  #openSecret(userId: string, sealed: string): string {
    try {
      return this.#requireBox().open(sealed, totpContext(userId));
    } catch (error) {
      if (error instanceof SealedValueError) throw new MfaUnavailableError({ cause: error });
      throw error;
    }
  }

  async #audit(
    action: 'mfa_enrolment_started' | 'mfa_enabled' | 'mfa_disabled' | 'mfa_recovery_codes_replaced',
    userId: string,
    client: ClientInfo,
    now: number,
  ): Promise<void> {
    const actor: Actor = { id: userId, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action, actor, subject: userId }, now);
  }
}

/** What a sealed TOTP secret is bound to: a copy in another user's row does not open. */
function totpContext(userId: string): string {
  return `totp:${userId}`;
}
