/**
 * Second factors (issue 14): a TOTP factor per user, pending until its first code is entered,
 * and single-use recovery codes. The TOTP secret is stored sealed (`secrets/secret-box.ts`),
 * recovery codes as hashes only. Every use is a compare-and-set in the store, so a code accepted
 * once is refused on every later try, on every instance.
 */
export interface MfaStore {
  /** Replaces the user's pending TOTP factor (an active one is left alone: `false`). */
  startTotp(userId: string, secretSealed: string, now: number): Promise<boolean>;
  /**
   * Activates the pending factor with the step of its first code, which counts as used, and
   * stores the recovery codes, in one transaction: only while the pending secret is still
   * `secretSealed`, the one the code was checked against. `false` otherwise.
   */
  confirmTotp(
    userId: string,
    secretSealed: string,
    step: number,
    recoveryCodeHashes: readonly string[],
    now: number,
  ): Promise<boolean>;
  /** The user's factors as stored; `null` when none was ever started. */
  getFactors(userId: string): Promise<MfaFactors>;
  /**
   * Records that the active factor's code of `step` was used, only if `step` is later than every
   * step used before: of two uses of one code, or an older code after a newer, one succeeds.
   */
  useTotpStep(userId: string, step: number, now: number): Promise<boolean>;
  /** Spends an unused recovery code of the user; `false` for any other. */
  useRecoveryCode(userId: string, hash: string, now: number): Promise<boolean>;
  /** Replaces every recovery code of the user (the old set dies), only while a factor is active. */
  replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<boolean>;
  /** Removes the TOTP factor and the recovery codes; `false` when there was nothing to remove. */
  removeFactors(userId: string): Promise<boolean>;
}

export interface MfaFactors {
  totp: TotpFactorRecord | null;
  /** Recovery codes not used yet. */
  recoveryCodesLeft: number;
}

export interface TotpFactorRecord {
  secretSealed: string;
  createdAt: number;
  /** `null` while pending: no code has been entered yet. */
  confirmedAt: number | null;
  /** The latest time step whose code was accepted; `null` before the first. */
  lastStep: number | null;
}
