/** One entry of the revocation feed: a session (or a single token) and when it stops mattering. */
export interface RevocationEntry {
  sid?: string;
  jti?: string;
  /** Seconds since the epoch after which no token it covers can still be accepted. */
  exp: number;
}

/**
 * Revoked session and token ids held in memory until the last token they cover has expired, so
 * the check on each request is a map lookup. Keyed by `sid` or `jti`, never by the token string,
 * so a re-encoded or malleated copy of a revoked token is revoked too (ATTACKS ALG-13, CLM-15).
 */
export class RevokedSet {
  readonly #sessions = new Map<string, number>();
  readonly #tokens = new Map<string, number>();

  /** Adds entries; malformed ones are ignored. `exp` only ever grows for an id. */
  add(entries: readonly unknown[]): void {
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { sid, jti, exp } = entry as Record<string, unknown>;
      if (typeof exp !== 'number' || !Number.isFinite(exp)) continue;
      if (typeof sid === 'string') raise(this.#sessions, sid, exp * 1000);
      if (typeof jti === 'string') raise(this.#tokens, jti, exp * 1000);
    }
  }

  /** Whether a token of session `sid` with id `jti` is revoked at `now` (ms). */
  covers(sid: string, jti: string, now: number): boolean {
    return isLive(this.#sessions.get(sid), now) || isLive(this.#tokens.get(jti), now);
  }

  /** Forgets entries that no longer cover any valid token; returns how many remain. */
  prune(now: number): number {
    for (const map of [this.#sessions, this.#tokens]) {
      for (const [id, until] of map) if (until <= now) map.delete(id);
    }
    return this.size;
  }

  get size(): number {
    return this.#sessions.size + this.#tokens.size;
  }
}

function raise(map: Map<string, number>, id: string, until: number): void {
  if (until > (map.get(id) ?? 0)) map.set(id, until);
}

const isLive = (until: number | undefined, now: number): boolean => until !== undefined && until > now;
