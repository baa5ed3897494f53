import { createHash, randomBytes } from 'node:crypto';

/** Codes in a set (issue 14: "ten single-use codes"). */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // 32 symbols, none mistaken for another
const SYMBOLS = 16; // 80 bits: no offline search of a stolen hash finds one

/**
 * A new set of recovery codes, as shown once to the user (`XXXX-XXXX-XXXX-XXXX`), and their
 * hashes, which are all the store keeps.
 */
export function newRecoveryCodes(userId: string): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(SYMBOLS);
    const symbols = [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]!).join('');
    return symbols.match(/.{4}/g)!.join('-');
  });
  return { codes, hashes: codes.map((code) => recoveryCodeHash(userId, code)) };
}

/**
 * What the store keeps of a code: SHA-256 over the user and the code as typed, without dashes or
 * spaces and in capitals. 80 random bits need no slow hash; the user in it ties a code to its
 * owner.
 */
export function recoveryCodeHash(userId: string, code: string): string {
  return createHash('sha256')
    .update(`${userId}\n${normalize(code)}`)
    .digest('base64url');
}

/** Whether `code` has a recovery code's shape (after normalising), before any store lookup. */
export function looksLikeRecoveryCode(code: string): boolean {
  return new RegExp(`^[${ALPHABET}]{${SYMBOLS}}$`).test(normalize(code));
}

function normalize(code: string): string {
  return code.replaceAll(/[\s-]/g, '').toUpperCase();
}
