import { randomUUID } from 'node:crypto';
import {
  EmailNotVerifiedError,
  InvalidCredentialsError,
  InvalidRequestError,
  InvalidTokenError,
  TesseraError,
} from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertAcceptablePassword, assertPasswordSize } from '../passwords/password-policy.ts';
import type { SecondStep } from '../mfa/second-step.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions, TokenGrant } from '../sessions/sessions.ts';
import type { Role, Store, UserRecord } from '../stores/store.ts';

const MAX_NAME_LENGTH = 200;

/** What `POST /auth/login` takes. */
export interface LoginInput {
  email: string;
  password: string;
  remember?: boolean | undefined;
  /** Cookie mode: what the session (or, with a second factor, the mfaToken) is started for. */
  cookie?: boolean | undefined;
}

/** Sign-up, login, password change and the profile: the account side of Tessera. */
export class Accounts {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #limits: RateLimits;
  readonly #sessions: Sessions;
  readonly #secondStep: SecondStep;
  readonly #metrics: MetricsSink;
  readonly #requireVerifiedEmail: boolean;

  constructor(
    store: Store,
    hasher: PasswordHasher,
    limits: RateLimits,
    sessions: Sessions,
    secondStep: SecondStep,
    metrics: MetricsSink = NO_METRICS,
    { requireVerifiedEmail = false }: { requireVerifiedEmail?: boolean } = {},
  ) {
    this.#requireVerifiedEmail = requireVerifiedEmail;
    this.#store = store;
    this.#hasher = hasher;
    this.#limits = limits;
    this.#sessions = sessions;
    this.#secondStep = secondStep;
    this.#metrics = metrics;
  }

  async signup(
    input: { email: string; password: string; name?: string | undefined },
    now: number,
    client?: ClientInfo,
  ): Promise<UserRecord> {
    const email = canonicalEmail(input.email);
    assertAcceptablePassword(input.password);
    await this.#limits.hitSignup(email, now);
    const user = await newUser({ ...input, role: 'user' }, this.#hasher, now);
    await this.#store.createUser(user);
    const actor = { id: user.id, ip: client?.ip ?? null, userAgent: client?.userAgent ?? null };
    await recordAudit(
      this.#store,
      { action: 'user_created', actor, subject: user.id, detail: { via: 'signup' } },
      now,
    );
    return user;
  }

  /**
   * Checks credentials and starts a session. Unknown email, wrong password and disabled account
   * all answer the same `invalid_credentials` after the same amount of hashing work (ATTACKS
   * AUTH-01, AUTH-02); failures count against the account whether or not it exists.
   */
  async login(input: LoginInput, client: ClientInfo, now: number): Promise<TokenGrant> {
    const actor = { id: null, ...client };
    let grant: TokenGrant;
    try {
      grant = await this.#login(input, client, now);
    } catch (error) {
      this.#metrics.login(error instanceof TesseraError ? error.code : 'server_error');
      // The attempted email is not recorded, not even hashed: the entry must read the same whether
      // or not the account exists, and a mistyped email field may hold a password.
      // Throttled attempts are not written: one row per refused guess would let anyone grow the
      // audit table at the rate limit's pace. The rate_limited metric counts them instead.
      if (error instanceof InvalidCredentialsError) {
        const detail = { reason: error.code };
        await recordAudit(this.#store, { action: 'login_failed', actor, subject: null, detail }, now);
      }
      throw error;
    }
    this.#metrics.login('success');
    const { sid } = grant.access.claims;
    const subject = grant.user.id;
    await recordAudit(
      this.#store,
      { action: 'login_succeeded', actor: { ...actor, id: subject }, subject, detail: { sessionId: sid } },
      now,
    );
    return grant;
  }

  async #login(input: LoginInput, client: ClientInfo, now: number): Promise<TokenGrant> {
    const email = canonicalEmail(input.email);
    assertPasswordSize(input.password);
    await this.#limits.hitLogin(email, now);
    const user = await this.#store.getUserByEmail(email);
    const passwordOk = user
      ? await this.#hasher.verify(user.passwordHash, input.password)
      : await this.#hasher.verifyAgainstDummy(input.password);
    if (!user || !passwordOk || user.disabledAt !== null) throw new InvalidCredentialsError();
    // Only after the password: to anyone without it the answer stays `invalid_credentials`.
    if (this.#requireVerifiedEmail && user.emailVerifiedAt === null) throw new EmailNotVerifiedError();
    // With a second factor this throws `mfa_required` (no session) and the count stays.
    const options = { remember: input.remember ?? true, cookie: input.cookie === true };
    const grant = await this.#secondStep.begin(user, 'password', options, client, now);
    await this.#limits.clearLogin(email);
    return grant;
  }

  /**
   * Changes the password (current one required) and revokes every other session (ATTACKS RT-07).
   * The store writes it only if the password is still the one verified here and this session is
   * still live: two changes racing, or a change from a session revoked meanwhile, change nothing.
   */
  async changePassword(
    userId: string,
    sessionId: string,
    input: { currentPassword: string; newPassword: string },
    now: number,
    client: ClientInfo | null = null,
  ): Promise<void> {
    const user = await this.profile(userId);
    assertPasswordSize(input.currentPassword, 'currentPassword');
    assertAcceptablePassword(input.newPassword, 'newPassword');
    await this.#limits.hitPasswordChange(user.id, now);
    if (!(await this.#hasher.verify(user.passwordHash, input.currentPassword))) {
      throw new InvalidCredentialsError();
    }
    const newHash = await this.#hasher.hash(input.newPassword);
    const outcome = await this.#store.changePassword(
      { userId: user.id, currentHash: user.passwordHash, newHash, keepSessionId: sessionId },
      now,
    );
    if (outcome.kind === 'stale') throw new InvalidCredentialsError();
    await this.#limits.clearPasswordChange(user.id);
    this.#sessions.noteRevoked(outcome.revoked, 'password_changed');
    const actor: Actor = { id: user.id, ip: client?.ip ?? null, userAgent: client?.userAgent ?? null };
    const detail = { revokedSessions: outcome.revoked.length };
    await recordAudit(this.#store, { action: 'password_changed', actor, subject: user.id, detail }, now);
  }

  /** The token's user; a deleted or disabled user's token is refused (ATTACKS CLM-14). */
  async profile(userId: string): Promise<UserRecord> {
    const user = await this.#store.getUserById(userId);
    if (!user || user.disabledAt !== null) throw new InvalidTokenError('The account is not active');
    return user;
  }
}

/**
 * A new account's record from what sign-up or `tessera users create` was given: the canonical
 * email, an acceptable password (hashed here), a clean name. Throws `InvalidRequestError`.
 */
export async function newUser(
  input: { email: string; password: string; name?: string | undefined; role: Role },
  hasher: PasswordHasher,
  now: number,
): Promise<UserRecord> {
  const email = canonicalEmail(input.email);
  assertAcceptablePassword(input.password);
  return {
    id: randomUUID(),
    email,
    name: cleanName(input.name),
    passwordHash: await hasher.hash(input.password),
    role: input.role,
    createdAt: now,
    updatedAt: now,
    disabledAt: null,
    emailVerifiedAt: null,
  };
}

// Names may hold joiners (emoji, Indic and Persian scripts need them), but no controls and no
// bidi overrides, which make a name display as something else.
function cleanName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const trimmed = name.trim().normalize('NFC');
  if (
    trimmed.length > MAX_NAME_LENGTH ||
    !trimmed.isWellFormed() ||
    /[\p{Cc}\p{Zl}\p{Zp}\u200E\u200F\u202A-\u202E\u2066-\u2069]/u.test(trimmed)
  ) {
    throw new InvalidRequestError(
      `name must be at most ${MAX_NAME_LENGTH} characters without control characters`,
    );
  }
  return trimmed === '' ? null : trimmed;
}
