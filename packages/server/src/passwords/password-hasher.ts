import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { normalizePassword } from './password-policy.ts';

/** OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1. */
export const ARGON2_PARAMETERS = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id hashing. The `argon2` binding runs each hash on the libuv thread pool, so a flood of
 * logins never blocks the event loop that serves token-authenticated requests.
 */
export class PasswordHasher {
  #dummy: Promise<string> | undefined;

  async hash(password: string): Promise<string> {
    return argon2.hash(normalizePassword(password), ARGON2_PARAMETERS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, normalizePassword(password));
    } catch {
      return false;
    }
  }

  /**
   * Burns the time of one verification when there is no account, so an unknown email costs as
   * much as a wrong password (ATTACKS AUTH-02). Always answers `false`.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash(randomBytes(16).toString('base64url'));
    await this.verify(await this.#dummy, password);
    return false;
  }
}
