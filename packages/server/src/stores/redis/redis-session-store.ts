import type { Redis } from 'ioredis';
import type {
  Page,
  PasswordChange,
  PasswordChangeOutcome,
  RefreshTokenRecord,
  RevokeReason,
  RevokedSession,
  RotationOutcome,
  RotationRequest,
  SessionRecord,
  Store,
  UserChange,
  UserChangeOutcome,
  UserCursor,
  UserQuery,
  UserRecord,
  VerifiedLogin,
} from '../store.ts';
import type { AuditStore } from '../audit/audit-store.ts';
import type { CounterStore } from '../counters/counter-store.ts';
import type { KeyStore } from '../keys/key-store.ts';
import type { MfaStore } from '../mfa/mfa-store.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import type { PurgeCounts, PurgeCutoffs } from '../purge.ts';
import type { PasswordReset, PasswordResetOutcome, RecoveryStore } from '../recovery/recovery-store.ts';
import {
  CREATE_SESSION,
  KEEP_MS,
  PRUNE_REVOCATIONS,
  REVOKE_SESSION,
  REVOKE_USER_SESSIONS,
} from './lua-scripts.ts';
import { connect, guard, redisClient } from './redis-connection.ts';
import { RedisCounterStore } from './redis-counter-store.ts';
import {
  revokedFromEntries,
  revokedFromEntry,
  sessionFields,
  sessionFromFlat,
  tokenFields,
} from './redis-records.ts';
import { rotateOnRedis } from './redis-rotation.ts';
import { RevocationChannel } from './revocation-channel.ts';
import { SerialByKey } from './serial-by-key.ts';

/** A SQL store (SQLite or PostgreSQL) as the Redis store needs it: with the hash-only compare-and-set. */
export type SqlStore = Store & {
  replacePasswordHash(userId: string, currentHash: string, newHash: string, now: number): Promise<boolean>;
};

/** The most log entries one `listRevocations` page holds (as the SQL stores). */
const PAGE = 10_000;

/**
 * The scale-out store with Redis (`TESSERA_REDIS_URL`): sessions, refresh tokens, the revocation
 * log and rate-limit counters in Redis, where every instance sees them at once; users, keys and the
 * audit log stay in the SQL store it wraps. Each change is one Lua script, atomic in Redis
 * (`lua-scripts.ts`); rotation is an optimistic compare-and-set around the pure policy
 * (`redis-rotation.ts`); every revocation is published so other instances learn of it at once.
 *
 * Invariants that span both stores (a login racing a password change, a disable or a demotion) go
 * through the user's epoch in Redis; see `createSession` and `#endUserSessions`. A Redis failure
 * answers 503 `unavailable`, like a SQL one.
 */
export class RedisSessionStore implements Store {
  readonly #sql: SqlStore;
  readonly #redis: Redis;
  readonly #channel: RevocationChannel;
  readonly #prefix: string;
  readonly #rotations = new SerialByKey();
  #closed = false;

  /** Keys and the audit log stay in the SQL store; counters are here, shared at once. */
  readonly keys: KeyStore;
  readonly counters: CounterStore;
  readonly audit: AuditStore;
  /** The mail outbox stays in the SQL store: a message is committed with its cause's SQL write. */
  readonly outbox: OutboxStore;
  /** Second factors stay in the SQL store: each use is a compare-and-set there. */
  readonly mfa: MfaStore;
  /** Tokens and the password in SQL; the reset's revocations here, as in `changePassword`. */
  readonly recovery: RecoveryStore;

  private constructor(sql: SqlStore, redis: Redis, subscriber: Redis, prefix: string) {
    this.#sql = sql;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#channel = new RevocationChannel(subscriber, `${prefix}revoked`);
    this.keys = sql.keys;
    this.counters = new RedisCounterStore(redis, prefix);
    this.audit = sql.audit;
    this.outbox = sql.outbox;
    this.mfa = sql.mfa;
    this.recovery = {
      issueToken: (token, ...mails) => sql.recovery.issueToken(token, ...mails),
      tryToken: (tokenHash, purpose, now) => sql.recovery.tryToken(tokenHash, purpose, now),
      spendToken: (tokenHash, purpose, now) => sql.recovery.spendToken(tokenHash, purpose, now),
      verifyEmail: (tokenHash, now) => sql.recovery.verifyEmail(tokenHash, now),
      markEmailVerified: (userId, now) => sql.recovery.markEmailVerified(userId, now),
      changeEmail: (tokenHash, now) => sql.recovery.changeEmail(tokenHash, now),
      spendLoginCode: (attempt) => sql.recovery.spendLoginCode(attempt),
      spendLoginLink: (tokenHash, now) => sql.recovery.spendLoginLink(tokenHash, now),
      peekToken: (tokenHash, purpose, now) => sql.recovery.peekToken(tokenHash, purpose, now),
      resetPassword: (reset) => this.#resetPassword(reset),
    };
  }

  /**
   * Connects to Redis at `url` (a command connection and a subscriber) in front of `sql`, whose
   * closing it then owns. Rejects with `UnavailableError` when Redis does not answer.
   */
  static async open(sql: SqlStore, url: string, { prefix = 'tessera:' } = {}): Promise<RedisSessionStore> {
    const redis = redisClient(url);
    const subscriber = redisClient(url);
    try {
      await connect(redis);
      await connect(subscriber);
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      throw error;
    }
    return new RedisSessionStore(sql, redis, subscriber, prefix);
  }

  /** Both must answer: an instance that lost either cannot serve logins (`/readyz`). */
  async ping(): Promise<void> {
    await Promise.all([this.#sql.ping(), guard(() => this.#redis.ping())]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
    await this.#sql.close();
  }

  onRevoked(listener: (revoked: RevokedSession[]) => void): () => void {
    return this.#channel.listen(listener);
  }

  /**
   * Creates the session only if the user's epoch did not move between two points that bracket the
   * SQL check (hash still `verifiedHash`, user enabled). Why no session can outlive the password or
   * the account it was checked against: a password change (or disable, or demotion) commits in SQL
   * at time B, then bumps the epoch and revokes the user's sessions in one script at C > B. This
   * login reads the epoch at E, checks SQL at S > E, and commits at L > S only if the epoch is the
   * one read at E. If S > B, SQL shows the new hash (or the disable) and we refuse. If S < B, then
   * E < B < C: a commit before C is revoked by the script at C; a commit after C finds the epoch
   * moved (C is between E and L) and is refused. The epoch key expires a day after its last bump;
   * a login would have to stall that long between E and L for it to read the same value again.
   * A role change bumps the epoch too, and the SQL check compares the role the login read, so by
   * the same argument no session is created with a role the user no longer has.
   */
  async createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    verified: VerifiedLogin,
  ): Promise<boolean> {
    const epoch = await guard(() => this.#redis.get(this.#key('user-epoch', session.userId)));
    const user = await this.#sql.getUserById(session.userId);
    if (
      !user ||
      user.passwordHash !== verified.passwordHash ||
      user.role !== verified.role ||
      user.disabledAt !== null
    )
      return false;
    const now = session.createdAt;
    const created = await guard(() =>
      CREATE_SESSION.run(this.#redis, [
        this.#prefix,
        session.userId,
        epoch ?? '',
        session.id,
        JSON.stringify(sessionFields(session)),
        ttl(session.expiresAt, now),
        now,
        token?.hash ?? '',
        token ? JSON.stringify(tokenFields(token)) : '',
        token ? ttl(token.expiresAt, now) : 0,
      ]),
    );
    return created === 1;
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return guard(async () => sessionFromFlat(await this.#redis.hgetall(this.#key('session', id))));
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return guard(async () => {
      const ids = await this.#redis.zrange(this.#key('user-sessions', userId), 0, -1);
      if (ids.length === 0) return [];
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.#key('session', id));
      const replies = (await pipeline.exec()) ?? [];
      const sessions: SessionRecord[] = [];
      for (const [error, value] of replies) {
        if (error) throw error;
        const session = sessionFromFlat(value as Record<string, string>);
        if (session && session.revokedAt === null && session.expiresAt > now && session.idleExpiresAt > now)
          sessions.push(session);
      }
      return sessions.sort((a, b) => b.createdAt - a.createdAt);
    });
  }

  async findSessionByRefreshToken(hash: string): Promise<SessionRecord | null> {
    const sessionId = await guard(() => this.#redis.hget(this.#key('token', hash), 'sessionId'));
    return sessionId === null ? null : this.getSession(sessionId);
  }

  async rotateRefreshToken(request: RotationRequest): Promise<RotationOutcome> {
    return this.#rotations.run(request.presentedHash, () =>
      guard(() => rotateOnRedis(this.#redis, this.#prefix, request)),
    );
  }

  async revokeSession(id: string, reason: RevokeReason, now: number): Promise<RevokedSession | null> {
    const reply = await guard(() => REVOKE_SESSION.run(this.#redis, [this.#prefix, id, reason, now]));
    return revokedFromEntries(reply)[0] ?? null;
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, now: number): Promise<RevokedSession[]> {
    return this.#revokeUser(userId, reason, now, { spare: null, bumpEpoch: false });
  }

  /**
   * 1. The session doing it must be the user's and live (checked here first, since SQL no longer
   *    knows sessions); 2. the compare-and-set on the hash, in SQL; 3. `#endUserSessions`: epoch
   *    bumped, every other session revoked. Nothing is revoked unless 2 succeeded. If Redis fails
   *    between 2 and 3 the password has changed but the other sessions live on until they expire
   *    or are revoked; the caller gets a 503 (docs/deployment.md, "When Redis is down"). A session
   *    revoked between 1 and 3 stays revoked: as if the change had come first.
   */
  async changePassword(change: PasswordChange, now: number): Promise<PasswordChangeOutcome> {
    const keep = await guard(() =>
      this.#redis.hmget(this.#key('session', change.keepSessionId), 'userId', 'revokedAt'),
    );
    if (keep[0] !== change.userId || keep[1] !== null) return { kind: 'stale' };
    const { userId, currentHash, newHash, keepSessionId } = change;
    if (!(await this.#sql.replacePasswordHash(userId, currentHash, newHash, now))) return { kind: 'stale' };
    const revoked = await this.#endUserSessions(userId, 'password_changed', now, keepSessionId);
    return { kind: 'changed', revoked };
  }

  /**
   * A reset ends the sessions in Redis twice: before the SQL transaction spends the link, so that
   * a Redis failure (503) leaves the link usable and nothing changed but sessions ended, and after
   * it, for a login that committed in between with the old password (the epoch protocol of
   * `createSession`, step C). Only a Redis failure in the second step, after the first succeeded
   * moments before, can leave a session: one created in those moments (SECURITY.md REC-07).
   */
  async #resetPassword(reset: PasswordReset): Promise<PasswordResetOutcome> {
    const holder = await this.#sql.recovery.peekToken(reset.tokenHash, 'password_reset', reset.now);
    if (holder === null) return { kind: 'invalid' };
    const before = await this.#endUserSessions(holder.id, 'password_changed', reset.now, null);
    const outcome = await this.#sql.recovery.resetPassword(reset);
    if (outcome.kind !== 'reset') return outcome;
    const after = await this.#endUserSessions(outcome.user.id, 'password_changed', reset.now, null);
    return { ...outcome, revoked: [...outcome.revoked, ...before, ...after] };
  }

  /** The SQL change, then (disable, demotion) the epoch bump and revocations, as in `changePassword`. */
  async updateUser(id: string, change: UserChange, now: number): Promise<UserChangeOutcome> {
    const outcome = await this.#sql.updateUser(id, change, now);
    if (outcome.kind !== 'updated') return outcome;
    // The same rule as `planUserChange`, which the SQL store applied to its (empty) sessions table.
    const reason: RevokeReason | null =
      change.disabled === true
        ? 'user_disabled'
        : outcome.before.role === 'admin' && outcome.user.role !== 'admin'
          ? 'role_changed'
          : null;
    if (reason === null) return outcome;
    return { ...outcome, revoked: await this.#endUserSessions(id, reason, now, null) };
  }

  async listRevocations(
    after: number,
    cursor: number,
  ): Promise<{ cursor: number; revoked: RevokedSession[] }> {
    return guard(async () => {
      const reply = await this.#redis.zrangebyscore(
        `${this.#prefix}revocations`,
        `(${cursor}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        PAGE,
      );
      const revoked: RevokedSession[] = [];
      let next = cursor;
      for (let i = 0; i + 1 < reply.length; i += 2) {
        next = Number(reply[i + 1]);
        const entry = revokedFromEntry(reply[i]!);
        if (entry && entry.accessExpiresAt > after) revoked.push(entry);
      }
      return { cursor: next, revoked };
    });
  }

  /**
   * Sessions, refresh tokens and counters here carry a Redis TTL, so Redis drops them itself
   * (`lua-scripts.ts`: a session at its absolute end, a spent token at its session's, both plus
   * `KEEP_MS`; a counter with its window). What is left to sweep is the SQL store's audit log (its
   * session tables are empty) and the revocation log, a sorted set whose TTL every revocation
   * renews. The log is pruned only when the SQL store's batch ran: on PostgreSQL that means this
   * instance held the cleanup lock.
   */
  async purgeExpired(cutoffs: PurgeCutoffs, limit: number): Promise<PurgeCounts | null> {
    const counts = await this.#sql.purgeExpired(cutoffs, limit);
    if (counts === null) return null;
    const pruned = await guard(() =>
      PRUNE_REVOCATIONS.run(this.#redis, [this.#prefix, cutoffs.revocations, limit]),
    );
    return { ...counts, revocations: counts.revocations + Number(pruned) };
  }

  // Users: the SQL store's, unchanged.

  createUser(user: UserRecord): Promise<void> {
    return this.#sql.createUser(user);
  }

  getUserById(id: string): Promise<UserRecord | null> {
    return this.#sql.getUserById(id);
  }

  getUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#sql.getUserByEmail(email);
  }

  listUsers(query: UserQuery): Promise<Page<UserRecord, UserCursor>> {
    return this.#sql.listUsers(query);
  }

  /**
   * Step C of the cross-store protocol (see `createSession`): bumps the user's epoch and revokes
   * every session of the user but `spare`, in one script, after the SQL change committed.
   */
  #endUserSessions(
    userId: string,
    reason: RevokeReason,
    now: number,
    spare: string | null,
  ): Promise<RevokedSession[]> {
    return this.#revokeUser(userId, reason, now, { spare, bumpEpoch: true });
  }

  async #revokeUser(
    userId: string,
    reason: RevokeReason,
    now: number,
    { spare, bumpEpoch }: { spare: string | null; bumpEpoch: boolean },
  ): Promise<RevokedSession[]> {
    const reply = await guard(() =>
      REVOKE_USER_SESSIONS.run(this.#redis, [
        this.#prefix,
        userId,
        reason,
        now,
        spare ?? '',
        bumpEpoch ? '1' : '0',
      ]),
    );
    return revokedFromEntries(reply);
  }

  #key(kind: 'session' | 'token' | 'user-sessions' | 'user-epoch', id: string): string {
    return `${this.#prefix}${kind}:${id}`;
  }
}

/** Milliseconds a record written at `now` must live: to its end, plus `KEEP_MS`. */
function ttl(end: number, now: number): number {
  return Math.max(1, Math.ceil(end - now + KEEP_MS));
}
