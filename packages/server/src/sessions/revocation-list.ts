import type { RevokedSession } from '../stores/store.ts';

/**
 * Revoked session ids held in memory until the last access token they could have issued has
 * expired, so every protected request checks revocation without a database read (SPEC §3).
 * Filled from the store at start, so a restart never brings a revoked token back.
 */
export class RevocationList {
  readonly #until = new Map<string, number>();
  readonly #skewMs: number;
  readonly #listeners = new Set<() => void>();

  constructor(skewMs: number) {
    this.#skewMs = skewMs;
  }

  add(revoked: RevokedSession): void {
    // Tokens are accepted up to `exp + leeway`, so the entry must outlive that.
    const until = revoked.accessExpiresAt + this.#skewMs;
    const known = this.#until.get(revoked.sessionId) ?? 0;
    if (until > known) this.#until.set(revoked.sessionId, until);
    for (const listener of this.#listeners) listener();
  }

  /**
   * Calls `listener` after each `add` — a revocation made here, or read from the store's log —
   * so the revocation stream can push at once instead of polling. Listeners must not throw.
   * Returns the function that unsubscribes.
   */
  onAdded(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  has(sessionId: string, now: number): boolean {
    const until = this.#until.get(sessionId);
    return until !== undefined && until > now;
  }

  /** Drops entries whose tokens have all expired; returns how many remain. */
  prune(now: number): number {
    for (const [sessionId, until] of this.#until) if (until <= now) this.#until.delete(sessionId);
    return this.#until.size;
  }

  get size(): number {
    return this.#until.size;
  }
}
