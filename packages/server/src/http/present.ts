import type { TokenGrant } from '../sessions/sessions.ts';
import type { AuditRecord, SessionRecord, UserRecord } from '../stores/store.ts';

/** The public view of a user: never the password hash or internal flags (ATTACKS CLM-16). */
export function presentUser(user: UserRecord): {
  id: string;
  email: string;
  name: string | null;
  role: string;
  emailVerified: boolean;
  createdAt: string;
} {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: new Date(user.createdAt).toISOString(),
  };
}

/** A user as the admin API shows it: the public view, and whether and since when it is disabled. */
export function presentAdminUser(user: UserRecord): Record<string, unknown> {
  return {
    ...presentUser(user),
    disabled: user.disabledAt !== null,
    disabledAt: user.disabledAt === null ? null : new Date(user.disabledAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
  };
}

export function presentAuditEntry(entry: AuditRecord): Record<string, unknown> {
  return {
    id: String(entry.id),
    occurredAt: new Date(entry.occurredAt).toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    ip: entry.ip,
    userAgent: entry.userAgent,
    detail: entry.detail,
  };
}

/** The body of login and refresh responses (SPEC §4). */
export function presentGrant(grant: TokenGrant, now: number): Record<string, unknown> {
  const body: Record<string, unknown> = {
    accessToken: grant.access.token,
    tokenType: 'Bearer',
    expiresIn: secondsUntil(grant.access.expiresAt, now),
  };
  if (grant.refreshToken !== null && grant.refreshExpiresAt !== null) {
    body['refreshToken'] = grant.refreshToken;
    body['refreshExpiresIn'] = secondsUntil(grant.refreshExpiresAt, now);
  }
  body['user'] = presentUser(grant.user);
  return body;
}

/** Cookie mode: the same, without the tokens, which travel in cookies (SPEC §4). */
export function presentCookieGrant(grant: TokenGrant, now: number): Record<string, unknown> {
  const body: Record<string, unknown> = { expiresIn: secondsUntil(grant.access.expiresAt, now) };
  if (grant.refreshExpiresAt !== null) body['refreshExpiresIn'] = secondsUntil(grant.refreshExpiresAt, now);
  body['user'] = presentUser(grant.user);
  return body;
}

export function presentSession(session: SessionRecord, currentSessionId: string): Record<string, unknown> {
  return {
    id: session.id,
    createdAt: new Date(session.createdAt).toISOString(),
    lastUsedAt: new Date(session.lastUsedAt).toISOString(),
    expiresAt: new Date(Math.min(session.expiresAt, session.idleExpiresAt)).toISOString(),
    userAgent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSessionId,
  };
}

function secondsUntil(time: number, now: number): number {
  return Math.max(0, Math.floor((time - now) / 1000));
}
