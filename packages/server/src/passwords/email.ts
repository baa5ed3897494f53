import { InvalidRequestError } from '@tessera/protocol';

export const MAX_EMAIL_LENGTH = 254;

// One "@", something on each side, a dot in the domain; no whitespace, double quotes, angle
// brackets, controls, invisible format characters (zero-width, soft hyphen, bidi overrides: two
// addresses that look the same must be the same) or line separators (ATTACKS CLM-12: an email can never smuggle JSON or
// headers). An apostrophe stays legal in the local part: o'brien@example.com is a real address.
const EMAIL =
  /^[^\s@"<>()[\]\\,;:\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]{1,64}@[^\s@"'<>()[\]\\,;:\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]+\.[^\s@"'<>()[\]\\,;:.\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]+$/u;

/**
 * The one canonical form of an email (ATTACKS AUTH-11): trimmed, NFKC (so fullwidth letters fold
 * to ASCII), lower-cased with the locale-independent mapping. Throws `InvalidRequestError` when
 * the result is not an email address.
 */
export function canonicalEmail(input: string): string {
  const email = input.trim().normalize('NFKC').toLowerCase();
  // A lone surrogate would be stored as U+FFFD and collide with other spellings: refuse it.
  if (email.length > MAX_EMAIL_LENGTH || !email.isWellFormed() || !EMAIL.test(email)) {
    throw new InvalidRequestError('email must be a valid email address');
  }
  return email;
}
