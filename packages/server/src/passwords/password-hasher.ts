import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { HashSlots } from './hash-slots.ts';
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
 * logins never blocks the event loop that serves token-authenticated requests; at most one hash
 * per core, plus one, runs at a time (`HashSlots`), so the flood cannot crowd the event loop off
 * the CPU.
 *
 * The one extra: a slot is handed on by the event loop, which may be busy when a hash ends (a
 * SQLite commit waits for its fsync there); with exactly one hash per core, that core idled until
 * the loop came back. `npm run bench -- login` on 2026-12-02 (two cores): with two slots, logins
 * ran at 0.88× the raw argon2id rate; with three, at 0.91× and 0.95× in two runs, `/auth/me` p99
 * under the flood still within 2× of its p99 without it (docs/design.md, "Login: 0.9× the raw
 * argon2id rate").
 */
export class PasswordHasher {
  #dummy: Promise<string> | undefined;
  readonly #slots: HashSlots;

  constructor(concurrency = availableParallelism() + 1) {
    this.#slots = new HashSlots(concurrency);
  }

  async hash(password: string): Promise<string> {
    const normalized = normalizePassword(password);
    return this.#slots.run(() => argon2.hash(normalized, ARGON2_PARAMETERS));
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      const normalized = normalizePassword(password);
      return await this.#slots.run(() => argon2.verify(hash, normalized));
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
