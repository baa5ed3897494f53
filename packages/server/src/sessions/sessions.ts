import { randomUUID } from 'node:crypto';
import {
  EmailNotVerifiedError,
  InvalidCredentialsError,
  InvalidGrantError,
  RefreshTokenReusedError,
  SessionExpiredError,
  TokenRevokedError,
} from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import type { AccessTokenClaims, AccessTokens, IssuedAccessToken } from '../tokens/access-token.ts';
import {
  hashRefreshToken,
  isRefreshTokenFormat,
  newRefreshToken,
  openSuccessor,
  sealSuccessor,
} from '../tokens/refresh-token.ts';
import type {
  RefreshTokenRecord,
  RevokeReason,
  RevokedSession,
  RotationDecision,
  SessionRecord,
  Store,
  UserRecord,
} from '../stores/store.ts';
import type { RevocationList } from './revocation-list.ts';
import { decideRotation, type RotationPolicy } from './rotation-policy.ts';

/** Role changes racing one login: each retry follows one; a user flipped faster than this is refused. */
const ROLE_RACE_ATTEMPTS = 3;

export interface SessionSettings {
  /** Seconds a refresh token lives unused; renewed on each refresh (the policy has it too). */
  refreshTtl: number;
  /** Seconds from login after which the session ends, whatever the activity. */
  sessionMaxAge: number;
  policy: RotationPolicy;
  /**
   * `TESSERA_EMAIL_VERIFICATION=required`: a session of an unverified address (one from before
   * the setting, or from an admin) is not refreshed. Checked before the token is consumed, so the
   * same token works once the address is verified.
   */
  requireVerifiedEmail?: boolean;
}

/** Where a login came from, shown in the session list. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** What login and refresh hand back. */
export interface TokenGrant {
  access: IssuedAccessToken;
  refreshToken: string | null;
  /** Milliseconds; `null` when no refresh token was issued. */
  refreshExpiresAt: number | null;
  user: UserRecord;
}

/**
 * Sessions and their refresh-token families: start, refresh (rotation with reuse detection),
 * revoke, list, and the revocation check on every authenticated request.
 */
export class Sessions {
  readonly #store: Store;
  readonly #tokens: AccessTokens;
  readonly #revocations: RevocationList;
  readonly #settings: SessionSettings;
  readonly #metrics: MetricsSink;
  #cursor = 0;

  constructor(
    store: Store,
    tokens: AccessTokens,
    revocations: RevocationList,
    settings: SessionSettings,
    metrics: MetricsSink = NO_METRICS,
  ) {
    this.#store = store;
    this.#tokens = tokens;
    this.#revocations = revocations;
    this.#settings = settings;
    this.#metrics = metrics;
  }

  /**
   * Reads revocations committed since the last call — by this process, another one on the same
   * store, or the CLI — into the in-memory list. Called at start, before serving, and then every
   * second, so a restart never brings a revoked token back and no process lags by more.
   */
  async syncRevocations(now: number): Promise<void> {
    // The store answers in pages: read until the cursor stops moving.
    for (;;) {
      const page = await this.#store.listRevocations(now - this.#settings.policy.skewMs, this.#cursor);
      for (const entry of page.revoked) this.#revocations.add(entry);
      if (page.cursor === this.#cursor) return;
      this.#cursor = page.cursor;
    }
  }

  /**
   * Subscribes to revocations as they reach this process: made here (logout, reuse, password
   * change…), or read from the store's log by `syncRevocations` (another process). The listener
   * is only a signal: it reads what changed from the store's log, which holds the cursors.
   * Returns the function that unsubscribes.
   */
  onRevoked(listener: () => void): () => void {
    return this.#revocations.onAdded(listener);
  }

  /** Creates a session at login. `remember: false` → no refresh token; one access lifetime. */
  /**
   * A new session for `user`, who signed in with `amr` (RFC 8176 values; a password alone unless
   * told). Every access token of the session carries `amr` and this time as `auth_time`.
   */
  async start(
    user: UserRecord,
    remember: boolean,
    client: ClientInfo,
    now: number,
    amr: readonly string[] = ['pwd'],
  ): Promise<TokenGrant> {
    this.#tokens.assertCanSign(now); // before the session exists: nothing half-written
    const accessExpiresAt = this.#accessExpiresAt(now);
    const expiresAt = remember ? now + this.#settings.sessionMaxAge * 1000 : accessExpiresAt;
    const refreshExpiresAt = remember ? Math.min(now + this.#settings.refreshTtl * 1000, expiresAt) : null;
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      idleExpiresAt: refreshExpiresAt ?? expiresAt,
      accessExpiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip,
      amr: [...amr],
      authTime: now,
    };
    const refreshToken = remember ? newRefreshToken() : null;
    const token: RefreshTokenRecord | null =
      refreshToken && refreshExpiresAt
        ? {
            hash: hashRefreshToken(refreshToken),
            sessionId: session.id,
            parentHash: null,
            createdAt: now,
            expiresAt: refreshExpiresAt,
            consumedAt: null,
            successorHash: null,
            successorSealed: null,
          }
        : null;
    const verified = await this.#createSession(session, token, user);
    const access = await this.#tokens.issue({ ...subjectOf(session), role: verified.role }, now);
    return { access, refreshToken, refreshExpiresAt, user };
  }

  /**
   * The store creates the session only while the hash and role login read are still current. When
   * only the role moved (an admin promoted or demoted the user while the password was hashing),
   * the login is still good: it retries with the role the store holds now, so the token never
   * carries a role the user no longer has. A changed password or a disabled account refuses it.
   */
  async #createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    user: UserRecord,
  ): Promise<UserRecord> {
    let verified = user;
    for (let attempt = 0; attempt < ROLE_RACE_ATTEMPTS; attempt += 1) {
      if (await this.#store.createSession(session, token, verified)) return verified;
      const current = await this.#store.getUserById(user.id);
      if (!current || current.passwordHash !== user.passwordHash || current.disabledAt !== null) break;
      verified = current;
    }
    throw new InvalidCredentialsError();
  }

  /**
   * Consumes a refresh token and issues its successor; see `decideRotation` for every branch. A
   * detected reuse is audited with `client`, the address that presented the spent token.
   */
  async refresh(presented: unknown, now: number, client: ClientInfo | null = null): Promise<TokenGrant> {
    // A value of the wrong shape (an access token, garbage, another version) never reaches the
    // store (ATTACKS RT-09, RT-11).
    if (!isRefreshTokenFormat(presented)) {
      this.#metrics.refresh('invalid_grant');
      throw new InvalidGrantError();
    }
    // Fail before the refresh token is consumed, not after: a retry must not look like reuse.
    this.#tokens.assertCanSign(now);
    if (this.#settings.requireVerifiedEmail === true) await this.#assertVerified(presented);
    const successor = newRefreshToken();
    let decision: RotationDecision | undefined;
    const outcome = await this.#store.rotateRefreshToken({
      presentedHash: hashRefreshToken(presented),
      now,
      accessExpiresAt: this.#accessExpiresAt(now),
      successor: {
        hash: hashRefreshToken(successor),
        sealedForPresented: sealSuccessor(presented, successor),
      },
      decide: (state) => (decision = decideRotation(state, now, this.#settings.policy)),
    });

    this.#metrics.refresh(outcome.kind === 'rejected' ? outcome.code : outcome.kind);
    switch (outcome.kind) {
      case 'rejected':
        throw outcome.code === 'session_expired'
          ? new SessionExpiredError(undefined, { cause: outcome.reason })
          : new InvalidGrantError(undefined, { cause: outcome.reason });
      case 'reused': {
        const reason = decision?.kind === 'reuse' ? decision.reason : 'reuse_detected';
        this.#metrics.reuseDetected(reason);
        this.noteRevoked([outcome.revoked], reason);
        await recordAudit(
          this.#store,
          {
            action: 'refresh_reuse_detected',
            actor: { id: null, ip: client?.ip ?? null, userAgent: client?.userAgent ?? null },
            subject: outcome.revoked.userId,
            detail: { sessionId: outcome.revoked.sessionId, reason },
          },
          now,
        );
        throw new RefreshTokenReusedError();
      }
      case 'grace': {
        const current = openSuccessor(presented, outcome.sealedCurrent);
        if (current === null) throw new InvalidGrantError();
        return this.#grant(outcome.session, current, outcome.current.expiresAt, now);
      }
      case 'rotated':
        return this.#grant(outcome.session, successor, outcome.token.expiresAt, now);
    }
  }

  /**
   * Drops in-memory revocations whose access tokens have all expired. The store's log is pruned
   * by the cleanup job (`maintenance/cleanup.ts`), in bounded batches.
   */
  pruneRevocations(now: number): void {
    this.#revocations.prune(now);
  }

  /** Checks a bearer token and that its session is not revoked (no store read: SPEC §3). */
  async authenticate(token: string, now: number): Promise<AccessTokenClaims> {
    const claims = await this.#tokens.verify(token, now);
    if (this.#revocations.has(claims.sid, now)) throw new TokenRevokedError();
    return claims;
  }

  /** Revokes one session; audited (`logout`, or `session_revoked`) when someone asked for it. */
  async revoke(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    by: Actor | null = null,
  ): Promise<RevokedSession | null> {
    const revoked = await this.#store.revokeSession(sessionId, reason, now);
    if (!revoked) return null;
    this.noteRevoked([revoked], reason);
    if (by) {
      const action = reason === 'logout' ? 'logout' : 'session_revoked';
      const detail = { sessionId, reason };
      await recordAudit(this.#store, { action, actor: by, subject: revoked.userId, detail }, now);
    }
    return revoked;
  }

  /** Revokes every session of a user; audited (`logout_all`, or `sessions_revoked`) when asked for. */
  async revokeAll(
    userId: string,
    reason: RevokeReason,
    now: number,
    by: Actor | null = null,
  ): Promise<RevokedSession[]> {
    const revoked = this.noteRevoked(await this.#store.revokeUserSessions(userId, reason, now), reason);
    if (by) {
      const action = reason === 'logout_all' ? 'logout_all' : 'sessions_revoked';
      const detail = { sessions: revoked.length, reason };
      await recordAudit(this.#store, { action, actor: by, subject: userId, detail }, now);
    }
    return revoked;
  }

  /**
   * Revokes every live session of a user but `keep` (a second factor was turned on from `keep`:
   * sessions that began without it, a thief's among them, end). One by one: a login that passed
   * the factor check before the factor was active and commits during this loop can survive it.
   */
  async revokeOthers(
    userId: string,
    keep: string,
    reason: RevokeReason,
    now: number,
  ): Promise<RevokedSession[]> {
    const revoked: RevokedSession[] = [];
    for (const session of await this.#store.listActiveSessions(userId, now)) {
      if (session.id === keep) continue;
      const entry = await this.#store.revokeSession(session.id, reason, now);
      if (entry) revoked.push(entry);
    }
    return this.noteRevoked(revoked, reason);
  }

  /**
   * Records revocations committed to the store — here, or by another component (a password
   * change) — in the in-memory list and the metrics.
   */
  noteRevoked(revoked: RevokedSession[], reason: RevokeReason): RevokedSession[] {
    for (const entry of revoked) this.#revocations.add(entry);
    this.#metrics.revoked(reason, revoked.length);
    return revoked;
  }

  /**
   * Logout by refresh token (RFC 7009 §2.2: an unknown token still answers success). When the
   * caller is also authenticated, only a session of the same user is revoked (ATTACKS RT-06).
   */
  async revokeByRefreshToken(
    presented: unknown,
    onlyForUser: string | null,
    now: number,
    client: ClientInfo | null = null,
  ): Promise<void> {
    const session = await this.sessionOfRefreshToken(presented);
    if (!session || (onlyForUser !== null && session.userId !== onlyForUser)) return;
    // The holder of a session's refresh token acts as its user.
    const by = { id: session.userId, ip: client?.ip ?? null, userAgent: client?.userAgent ?? null };
    await this.revoke(session.id, 'logout', now, by);
  }

  /** The session a refresh token belongs to (whatever its state), without consuming it. */
  async sessionOfRefreshToken(presented: unknown): Promise<SessionRecord | null> {
    if (!isRefreshTokenFormat(presented)) return null;
    return this.#store.findSessionByRefreshToken(hashRefreshToken(presented));
  }

  /** A session of `userId`, or `null` when it does not exist or is someone else's. */
  async findOwn(userId: string, sessionId: string): Promise<SessionRecord | null> {
    const session = await this.#store.getSession(sessionId);
    return session && session.userId === userId ? session : null;
  }

  async list(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#store.listActiveSessions(userId, now);
  }

  async #grant(
    session: SessionRecord,
    refreshToken: string,
    refreshExpiresAt: number,
    now: number,
  ): Promise<TokenGrant> {
    const user = await this.#store.getUserById(session.userId);
    if (!user || user.disabledAt !== null) {
      await this.revoke(session.id, 'user_disabled', now);
      throw new InvalidGrantError();
    }
    // Same `now` as the rotation, so `exp` equals the `accessExpiresAt` the store recorded.
    const access = await this.#tokens.issue({ ...subjectOf(session), role: user.role }, now);
    return { access, refreshToken, refreshExpiresAt, user };
  }

  /** An extra read of the session and its user, paid only when verification is required. */
  async #assertVerified(presented: string): Promise<void> {
    const session = await this.#store.findSessionByRefreshToken(hashRefreshToken(presented));
    const user = session && (await this.#store.getUserById(session.userId));
    if (user && user.emailVerifiedAt === null) throw new EmailNotVerifiedError();
  }

  #accessExpiresAt(now: number): number {
    return (Math.floor(now / 1000) + this.#tokens.ttlSeconds) * 1000;
  }
}

/** What an access token says of the session it belongs to. */
function subjectOf(session: SessionRecord): {
  userId: string;
  sessionId: string;
  amr: string[];
  authTime: number;
} {
  return { userId: session.userId, sessionId: session.id, amr: session.amr, authTime: session.authTime };
}
