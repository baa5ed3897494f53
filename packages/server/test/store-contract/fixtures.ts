import { randomBytes, randomUUID } from 'node:crypto';
import { decideRotation, type RotationPolicy } from '../../src/sessions/rotation-policy.ts';
import type { OutboxMessage } from '../../src/stores/outbox/outbox-store.ts';
import {
  bindingOf,
  type OneTimePurpose,
  type OneTimeTokenRecord,
} from '../../src/stores/recovery/recovery-store.ts';
import type {
  KeyRecord,
  RefreshTokenRecord,
  RotationRequest,
  RotationState,
  SessionRecord,
  Store,
  UserRecord,
} from '../../src/stores/store.ts';

/** Records for the store contract: valid by default, any field overridable. */

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const DAY = 24 * 60 * MINUTE;

/** The server's defaults: 10 s grace, 30 s leeway, 7-day idle lifetime. */
export const POLICY: RotationPolicy = {
  graceMs: 10 * SECOND,
  earlyRefresh: 'allow',
  skewMs: 30 * SECOND,
  refreshTtlMs: 7 * DAY,
};

export const randomHash = (): string => randomBytes(32).toString('base64url');

export function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  const id = randomUUID();
  return {
    id,
    email: `${id}@example.test`,
    name: null,
    passwordHash: `hash-${randomHash()}`,
    role: 'user',
    createdAt: T0,
    updatedAt: T0,
    disabledAt: null,
    emailVerifiedAt: null,
    ...overrides,
  };
}

export function sessionRecord(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId,
    createdAt: T0,
    lastUsedAt: T0,
    expiresAt: T0 + 30 * DAY,
    idleExpiresAt: T0 + 7 * DAY,
    accessExpiresAt: T0 + 15 * MINUTE,
    revokedAt: null,
    revokeReason: null,
    userAgent: 'contract-test',
    ip: '192.0.2.1',
    amr: ['pwd'],
    authTime: T0,
    ...overrides,
  };
}

export function tokenRecord(
  session: SessionRecord,
  overrides: Partial<RefreshTokenRecord> = {},
): RefreshTokenRecord {
  return {
    hash: randomHash(),
    sessionId: session.id,
    parentHash: null,
    createdAt: session.createdAt,
    expiresAt: session.idleExpiresAt,
    consumedAt: null,
    successorHash: null,
    successorSealed: null,
    ...overrides,
  };
}

export function keyRecord(overrides: Partial<KeyRecord> = {}): KeyRecord {
  const kid = randomHash().slice(0, 16);
  return {
    kid,
    alg: 'ES256',
    privateJwk: JSON.stringify({ kid, d: 'private' }),
    publicJwk: JSON.stringify({ kid }),
    createdAt: T0,
    activatesAt: T0,
    retiresAt: null,
    ...overrides,
  };
}

export interface Seeded {
  user: UserRecord;
  session: SessionRecord;
  token: RefreshTokenRecord;
}

/** A user with one logged-in session and its first refresh token. */
export async function seedSession(
  store: Store,
  overrides: { user?: UserRecord; session?: Partial<SessionRecord> } = {},
): Promise<Seeded> {
  const user = overrides.user ?? userRecord();
  if (!overrides.user) await store.createUser(user);
  const session = sessionRecord(user.id, overrides.session);
  const token = tokenRecord(session);
  if (!(await store.createSession(session, token, user))) throw new Error('seed refused');
  return { user, session, token };
}

export interface Rotation extends RotationRequest {
  /** Every state the policy was asked about (once per call). */
  seen: Array<RotationState | null>;
}

/** A rotation request as `Sessions.refresh` builds it, deciding with the real `decideRotation`. */
export function rotation(
  presentedHash: string,
  now: number,
  {
    policy = POLICY,
    accessExpiresAt = now + 15 * MINUTE,
  }: { policy?: RotationPolicy; accessExpiresAt?: number } = {},
): Rotation {
  const successorHash = randomHash();
  const seen: Array<RotationState | null> = [];
  return {
    presentedHash,
    now,
    accessExpiresAt,
    successor: { hash: successorHash, sealedForPresented: `sealed-for-${presentedHash}` },
    decide(state) {
      seen.push(state);
      return decideRotation(state, now, policy);
    },
    seen,
  };
}

/** A queued message for `user`, as a reset would queue it. */
export function mailFor(user: UserRecord, overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: randomUUID(),
    recipient: user.email,
    template: 'password_reset',
    subject: 'Reset your password',
    text: 'text body',
    html: '<p>html body</p>',
    createdAt: T0,
    expiresAt: null,
    ...overrides,
  };
}

/** A live reset token of `user`. */
export function resetToken(
  user: UserRecord,
  overrides: Partial<OneTimeTokenRecord> = {},
): OneTimeTokenRecord {
  return {
    hash: randomHash(),
    purpose: 'password_reset',
    userId: user.id,
    binding: bindingOf(user, 'password_reset'),
    createdAt: T0,
    expiresAt: T0 + 30 * MINUTE,
    ...overrides,
  };
}

/** A live token of `purpose` for `user`. */
export function tokenFor(
  user: UserRecord,
  purpose: OneTimePurpose,
  overrides: Partial<OneTimeTokenRecord> = {},
): OneTimeTokenRecord {
  return resetToken(user, { purpose, binding: bindingOf(user, purpose), ...overrides });
}
