import type { AuditAction, AuditDetail, Store } from '../stores/store.ts';

/**
 * Who did something, and from where: a user id, `cli` (the `tessera` command), `system` (the
 * server on its own), or `null` when nobody is known (a failed login, a replayed refresh token).
 */
export interface Actor {
  id: string | null;
  ip: string | null;
  userAgent: string | null;
}

export const CLI_ACTOR: Actor = { id: 'cli', ip: null, userAgent: null };
export const SYSTEM_ACTOR: Actor = { id: 'system', ip: null, userAgent: null };

/** One security event: what, by whom, to whom, with details that are never secrets. */
export interface AuditEvent {
  action: AuditAction;
  actor: Actor;
  subject: string | null;
  detail?: AuditDetail;
}

/**
 * Appends one event to the store's audit log, called where the event is decided, after it has
 * committed. A failure to write it fails the caller (`unavailable`): nothing is done silently
 * unrecorded, though an action that committed just before the store failed stays done.
 */
export async function recordAudit(
  store: Pick<Store, 'audit'>,
  event: AuditEvent,
  now: number,
): Promise<void> {
  await store.audit.append({
    occurredAt: now,
    actor: event.actor.id,
    action: event.action,
    subject: event.subject,
    ip: event.actor.ip,
    userAgent: event.actor.userAgent?.slice(0, 512) ?? null,
    detail: event.detail ?? {},
  });
}
