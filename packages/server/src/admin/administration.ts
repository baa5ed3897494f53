import { InvalidRequestError, NotFoundError } from '@tessera/protocol';
import { newUser } from '../accounts/accounts.ts';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type {
  AuditQuery,
  AuditRecord,
  Page,
  RevokeReason,
  RevokedSession,
  Role,
  SessionRecord,
  Store,
  UserChange,
  UserCursor,
  UserQuery,
  UserRecord,
} from '../stores/store.ts';

/** Told of sessions this service revoked, so the server refuses their tokens at once. */
export type RevokedListener = (revoked: RevokedSession[], reason: RevokeReason) => void;

/**
 * What an administrator does, through the admin API or the `tessera` CLI: create users, list them,
 * change a role, disable and enable, revoke sessions, read the audit log. Every change is audited
 * with its actor. Revocations go through the store's revocation log, so every instance and
 * verifier learns of them; `onRevoked` makes this process refuse the tokens without waiting.
 */
export class Administration {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #onRevoked: RevokedListener;
  readonly #metrics: MetricsSink;

  constructor(
    store: Store,
    hasher: PasswordHasher,
    onRevoked: RevokedListener = () => {},
    metrics: MetricsSink = NO_METRICS,
  ) {
    this.#store = store;
    this.#hasher = hasher;
    this.#onRevoked = onRevoked;
    this.#metrics = metrics;
  }

  /** A new account with the given role (the first admin is made this way, from the CLI). */
  async createUser(
    input: { email: string; password: string; name?: string | undefined; role: Role },
    by: Actor,
    now: number,
  ): Promise<UserRecord> {
    const user = await newUser(input, this.#hasher, now);
    await this.#store.createUser(user);
    const detail = { role: user.role };
    await this.#record({ action: 'user_created', actor: by, subject: user.id, detail }, now);
    return user;
  }

  async listUsers(query: UserQuery): Promise<Page<UserRecord, UserCursor>> {
    return this.#store.listUsers(query);
  }

  /** A user by id, or by email when `idOrEmail` has an `@`; throws `NotFoundError`. */
  async findUser(idOrEmail: string): Promise<UserRecord> {
    const user = idOrEmail.includes('@')
      ? await this.#store.getUserByEmail(canonicalEmail(idOrEmail))
      : await this.#store.getUserById(idOrEmail);
    if (!user) throw new NotFoundError('No such user');
    return user;
  }

  /**
   * Changes the role and/or the disabled state. Disabling revokes every session of the user in the
   * same transaction. Refused (`invalid_request`) when it would leave no enabled admin: an admin
   * cannot demote or disable themself, or another, if that one is the last.
   */
  async updateUser(id: string, change: UserChange, by: Actor, now: number): Promise<UserRecord> {
    const outcome = await this.#store.updateUser(id, change, now);
    if (outcome.kind === 'not_found') throw new NotFoundError('No such user');
    if (outcome.kind === 'last_admin') {
      throw new InvalidRequestError('This would leave no enabled admin: make another admin first');
    }
    const { before, user, revoked } = outcome;
    if (revoked.length > 0) this.#onRevoked(revoked, 'user_disabled');
    if (before.role !== user.role) {
      const detail = { from: before.role, to: user.role };
      await this.#record({ action: 'role_changed', actor: by, subject: id, detail }, now);
    }
    if ((before.disabledAt === null) !== (user.disabledAt === null)) {
      const action = user.disabledAt !== null ? 'user_disabled' : 'user_enabled';
      const detail = { revokedSessions: revoked.length };
      await this.#record({ action, actor: by, subject: id, detail }, now);
    }
    return user;
  }

  /** Revokes every live session of a user; throws `NotFoundError` for an unknown user. */
  async revokeSessions(userId: string, by: Actor, now: number): Promise<RevokedSession[]> {
    const user = await this.findUser(userId);
    const revoked = await this.#store.revokeUserSessions(user.id, 'admin_revoked', now);
    this.#onRevoked(revoked, 'admin_revoked');
    const detail = { sessions: revoked.length, reason: 'admin_revoked' };
    await this.#record({ action: 'sessions_revoked', actor: by, subject: user.id, detail }, now);
    return revoked;
  }

  /**
   * Removes a user's second factors (a lost phone and no recovery code left), so the password
   * alone signs in again; audited. `false` when the user had none. Throws `NotFoundError` for an
   * unknown user.
   */
  async resetMfa(userId: string, by: Actor, now: number): Promise<boolean> {
    const user = await this.findUser(userId);
    const removed = await this.#store.mfa.removeFactors(user.id);
    if (removed) await this.#record({ action: 'mfa_reset', actor: by, subject: user.id }, now);
    return removed;
  }

  /** Revokes one session; throws `NotFoundError` when it does not exist or is already revoked. */
  async revokeSession(sessionId: string, by: Actor, now: number): Promise<RevokedSession> {
    const revoked = await this.#store.revokeSession(sessionId, 'admin_revoked', now);
    if (!revoked) throw new NotFoundError('No such live session');
    this.#onRevoked([revoked], 'admin_revoked');
    const detail = { sessionId, reason: 'admin_revoked' };
    await this.#record({ action: 'session_revoked', actor: by, subject: revoked.userId, detail }, now);
    return revoked;
  }

  async listSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#store.listActiveSessions(userId, now);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditRecord, number>> {
    return this.#store.audit.list(query);
  }

  async #record(event: Parameters<typeof recordAudit>[1], now: number): Promise<void> {
    this.#metrics.adminAction(event.action);
    await recordAudit(this.#store, event, now);
  }
}
