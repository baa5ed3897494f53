import { InvalidRequestError } from '@tessera/protocol';

/** NIST SP 800-63B: at least 8 characters, counted as Unicode code points. */
export const MIN_PASSWORD_CHARACTERS = 8;
/** Longer passwords are refused before hashing, so length is never a CPU attack (ATTACKS AUTH-08). */
export const MAX_PASSWORD_BYTES = 1024;

/**
 * The form a password is hashed and compared in: NFKC (NIST SP 800-63B §5.1.1.2), so the same
 * password typed on two keyboards (é precomposed or e + combining accent) is the same password.
 * Never truncated: every byte counts (ATTACKS AUTH-07, AUTH-09).
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Throws `InvalidRequestError` unless a password is acceptable as a new password. */
export function assertAcceptablePassword(password: string, field = 'password'): void {
  assertPasswordSize(password, field);
  const characters = [...normalizePassword(password)].length;
  if (characters < MIN_PASSWORD_CHARACTERS) {
    throw new InvalidRequestError(`${field} must be at least ${MIN_PASSWORD_CHARACTERS} characters`);
  }
}

/** Throws `InvalidRequestError` when a password is over the byte limit or not valid Unicode. */
export function assertPasswordSize(password: string, field = 'password'): void {
  // Lone surrogates become U+FFFD in UTF-8, so two different passwords would hash the same.
  if (!password.isWellFormed()) throw new InvalidRequestError(`${field} must be valid Unicode text`);
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new InvalidRequestError(`${field} must be at most ${MAX_PASSWORD_BYTES} bytes`);
  }
}
